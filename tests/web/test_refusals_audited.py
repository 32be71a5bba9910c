"""Every refusal of a signed-in user's request is on the audit trail (issue 10, defect 7, web part).

Before issue 10 a missing or forged CSRF token was refused (403) but left no
trace, although the README promises that refusals are recorded. Each request
below is refused and must leave exactly one `access_denied` entry saying who,
what was asked and why; none may change anything else.
"""

from __future__ import annotations

import pytest

from dispatch.domain.audit import Action, AuditOutcome
from dispatch.store import audit as audit_store
from dispatch.ui.pages.screen import ids
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_HEADER, PAGES_ROUTER_OUTPUT
from tests.support.signed_in import signed_in


@pytest.fixture
def app(settings):
    return create_app(settings)


def refusals(redis_client, keys) -> list:
    entries = audit_store.read(redis_client, keys)
    assert all(e.outcome is AuditOutcome.REFUSED for e in entries), entries
    return entries


def router_output(app) -> str:
    return next(key for key in app.callback_map if PAGES_ROUTER_OUTPUT in key)


@pytest.mark.parametrize("token, reason", [(None, "missing CSRF token"), ("forged", "wrong CSRF token")])
def test_missing_or_forged_csrf_tokens_are_refused_and_audited(app, redis_client, keys, token, reason):
    client, _ = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    headers = {CSRF_HEADER: token} if token else {}
    asked = {
        f"callback:{ids.NEAREST_RESULT}": lambda: client.post(
            "/_dash-update-component", json={"output": f"{ids.NEAREST_RESULT}.data", "inputs": []}, headers=headers),
        "page:replay": lambda: client.post(
            "/_dash-update-component", headers=headers, json={"output": router_output(app), "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": "/replay"}]}),
        "api:api:patrol-codes": lambda: client.post("/api/patrol-codes", json={"patrol_id": "BAC-12"}, headers=headers),
        "page:home": lambda: client.post("/", headers=headers),
    }
    for target, send in asked.items():
        response = send()
        assert response.status_code == 403 and b"CSRF" in response.data, target
    entries = refusals(redis_client, keys)
    assert [(e.action, e.actor, e.role.value, e.target, e.reason, e.origin) for e in entries] == [
        (Action.ACCESS_DENIED, "SUP-1", "supervisor", target, reason, "127.0.0.1") for target in asked]
    assert not redis_client.hexists(keys.patrol_codes, "BAC-12"), "refused: no code issued"


def test_signing_out_without_the_token_is_refused_and_audited(app, redis_client, keys):
    client, _ = signed_in(app, redis_client, keys, user_id="AUD-1", role="auditor")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    (entry,) = refusals(redis_client, keys)
    assert (entry.actor, entry.target, entry.reason) == ("AUD-1", "route:logout", "wrong CSRF token")


def test_a_callback_that_declares_no_permission_is_refused_and_audited(app, redis_client, keys):
    client, token = signed_in(app, redis_client, keys, user_id="ADM-1", role="administrator")
    response = client.post("/_dash-update-component", json={"output": "no-such.children", "inputs": []},
                           headers={CSRF_HEADER: token})
    assert response.status_code == 403
    (entry,) = refusals(redis_client, keys)
    assert (entry.action, entry.actor, entry.target, entry.reason) == (
        Action.ACCESS_DENIED, "ADM-1", "callback:unknown", "declares no permission")


def test_a_refused_patrol_code_request_is_audited_without_the_name_typed(app, redis_client, keys):
    client, token = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    response = client.post("/api/patrol-codes", json={"patrol_id": "Jean Dupont"}, headers={CSRF_HEADER: token})
    assert response.status_code == 400
    (entry,) = refusals(redis_client, keys)
    assert (entry.action, entry.actor, entry.target) == (Action.PATROL_CODE_ISSUED, "SUP-1", "invalid")
    assert "Jean" not in entry.reason and "call sign" in entry.reason
