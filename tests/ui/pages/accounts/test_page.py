"""The administrator's accounts page ("/admin") through the real app and a real Redis.

The app is `create_app`, driven with Flask's test client; each Dash callback is
POSTed as the renderer posts it (session cookie, CSRF header, the callback's
inputs and states), so the guard, the page's functions and the audited store
steps all run. What is checked is what the page answers (messages, emptied
password fields), what Redis then holds (accounts, sessions), and the audit trail.
"""

from __future__ import annotations

import orjson
import pytest

from dispatch.domain.audit import Action
from dispatch.domain.auth import Throttle
from dispatch.store import accounts
from dispatch.store import audit as audit_store
from dispatch.ui.pages.accounts import ids as A
from dispatch.ui.pages.accounts import layout as accounts_layout
from dispatch.ui.pages.accounts import logic as C
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_HEADER
from tests.support.signed_in import signed_in as signed_in_as

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another long passphrase"


@pytest.fixture
def app(settings, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="ADM-1", role="administrator", password=PASSWORD)
    return create_app(settings)


def signed_in(app, redis_client, keys, *, user_id="ADM-1", role="administrator"):
    return signed_in_as(app, redis_client, keys, user_id=user_id, role=role)


def post_callback(app, client, csrf, first_output: str, values: dict, triggered: str):
    """POST the callback whose outputs start with `first_output`, with `values` by component id (a
    pattern-matching input takes a list of (id, value)), as if `triggered` ("id.prop") had changed."""
    output, entry = next((o, e) for o, e in app.callback_map.items() if o.startswith(f"..{first_output}"))

    def item(spec):
        value = values.get(spec["id"])
        if spec["id"].startswith("{"):  # pattern-matching: one entry per matching component
            return [{"id": pid, "property": spec["property"], "value": v} for pid, v in value or []]
        return {"id": spec["id"], "property": spec["property"], "value": value}

    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
               for part in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs, "inputs": [item(i) for i in entry["inputs"]],
            "state": [item(s) for s in entry["state"]], "changedPropIds": [triggered]}
    return client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: csrf})


def answer(response) -> dict:
    """{component id: {property: value}} of a callback's reply."""
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)["response"]


def create(app, client, csrf, *, code, role="supervisor", password=PASSWORD, confirm=PASSWORD):
    values = {A.CREATE: 1, A.CODE: code, A.ROLE: role, A.PASSWORD: password, A.PASSWORD_CONFIRM: confirm}
    return post_callback(app, client, csrf, A.CREATE_MESSAGE, values, f"{A.CREATE}.n_clicks")


def pressed(action: str, user: str) -> dict:
    """The grid's cellRendererData after a row button's press (as dash-ag-grid sends it)."""
    return {"value": {"action": action}, "colId": "buttons", "rowIndex": 1, "rowId": user, "timestamp": 1}


def pick(app, client, csrf, kind: str, user: str):
    """A row's Reset password or Delete button pressed."""
    values = {A.TABLE: pressed(kind, user)}
    return post_callback(app, client, csrf, A.PENDING, values, f"{A.TABLE}.cellRendererData")


def confirm(app, client, csrf, pending: dict, *, typed="", password="", again="", triggered=A.DELETE_GO):
    values = {A.DELETE_GO: 1, A.RESET_GO: 1, A.PENDING: pending, A.CONFIRM_CODE: typed, A.RESET_PASSWORD: password,
              A.RESET_CONFIRM: again}
    prop = "n_clicks" if triggered in (A.DELETE_GO, A.RESET_GO) else "n_submit"
    return post_callback(app, client, csrf, f"{A.MESSAGE}.children@", values, f"{triggered}.{prop}")


def account_entries(redis_client, keys) -> list:
    changes = {Action.ACCOUNT_CREATED, Action.ACCOUNT_PASSWORD_RESET, Action.ACCOUNT_DELETED}
    return [e for e in audit_store.read(redis_client, keys) if e.action in changes]


# ----------------------------------------------------------------------------- the page


def test_the_page_opens_for_administrators_only(app, redis_client, keys):
    admin, _ = signed_in(app, redis_client, keys)
    assert admin.get("/admin").status_code == 200
    for user_id, role in (("SUP-1", "supervisor"), ("AUD-1", "auditor")):
        other, _ = signed_in(app, redis_client, keys, user_id=user_id, role=role)
        assert other.get("/admin").status_code == 403, role


def test_the_table_lists_the_accounts_with_their_role_and_local_time(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-2", role="supervisor", password=PASSWORD)
    client, csrf = signed_in(app, redis_client, keys)
    reply = answer(post_callback(app, client, csrf, A.TABLE, {A.VERSION: 0}, f"{A.VERSION}.data"))
    rows = reply[A.TABLE]["rowData"]
    text = orjson.dumps(rows).decode()
    assert [row["user"] for row in rows] == ["ADM-1", "SUP-2"], "administrators first"
    assert [(row["code"], row["role"]) for row in rows] == [("ADM-1 (you)", "administrator"), ("SUP-2", "supervisor")]
    assert all("just now" in row["created"] for row in rows)
    assert [[b["action"] for b in row["buttons"] if not b["disabled"]] for row in rows] == [
        ["reset"], ["reset", "delete"]], "one's own account offers no Delete"
    assert reply[A.COUNT]["children"] == "2 accounts"
    assert "scrypt" not in text, "no hash reaches the page"


# ----------------------------------------------------------------------------- creating


def test_an_administrator_creates_an_account_and_the_fields_are_emptied(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    reply = answer(create(app, client, csrf, code=" sup-3 ", role="supervisor"))
    assert reply[A.CREATE_MESSAGE]["children"].startswith("SUP-3 can now sign in as supervisor")
    assert reply[A.CREATE_MESSAGE]["className"] == "ad-msg is-ok"
    assert reply[A.CODE]["value"] == "" and reply[A.PASSWORD]["value"] == "" == reply[A.PASSWORD_CONFIRM]["value"]
    assert reply[A.VERSION]["data"] > 0, "the table is drawn again"
    assert accounts.verify_password(redis_client, keys, user_id="SUP-3", password=PASSWORD)
    (entry,) = account_entries(redis_client, keys)
    assert (entry.actor, entry.role.value, entry.target, entry.origin, entry.outcome.value) == (
        "ADM-1", "administrator", "SUP-3", "127.0.0.1", "ok")


@pytest.mark.parametrize("code, role, password, again, message, audited", [
    ("SUP-3", "administrator", PASSWORD, PASSWORD, "SUP-3 is not an administrator code: administrator codes are "
                                                   "ADM-n", True),
    ("SUP-3", "supervisor", PASSWORD, PASSWORD + "!", "Passwords differ", False),
    ("SUP-3", "supervisor", "short", "short", "The password must have at least 12 characters", True),
    ("ADM-1", "administrator", PASSWORD, PASSWORD, "ADM-1 already has an account", True),
    ("", "supervisor", PASSWORD, PASSWORD, "Type the code of the new account", False),
    ("SUP-3", "supervisor", "", "", "Type a password", False),
    ("SUP-3", "patrol", PASSWORD, PASSWORD, "Patrols have no account", True),
    ("Jean Dupont", "auditor", PASSWORD, PASSWORD, "'Jean Dupont' is not an auditor code", True),
])
def test_bad_values_are_refused_with_what_to_fix(app, redis_client, keys, code, role, password, again, message,
                                                 audited):
    client, csrf = signed_in(app, redis_client, keys)
    before = redis_client.hgetall(keys.accounts)
    response = create(app, client, csrf, code=code, role=role, password=password, confirm=again)
    reply = answer(response)
    assert reply[A.CREATE_MESSAGE]["children"].startswith(message)
    assert reply[A.CREATE_MESSAGE]["className"] == "ad-msg is-refused"
    assert reply[A.PASSWORD]["value"] == "" and reply[A.PASSWORD_CONFIRM]["value"] == ""
    assert A.CODE not in reply, "the code stays, to be corrected"
    if password:
        assert password.encode() not in response.data, "a password never comes back"
    assert redis_client.hgetall(keys.accounts) == before
    refused = account_entries(redis_client, keys)
    assert len(refused) == int(audited)
    assert all(e.outcome.value == "refused" and "Dupont" not in e.reason for e in refused)


def test_supervisors_and_auditors_are_refused_the_page_callbacks(app, redis_client, keys):
    for user_id, role in (("SUP-1", "supervisor"), ("AUD-1", "auditor")):
        client, csrf = signed_in(app, redis_client, keys, user_id=user_id, role=role)
        assert create(app, client, csrf, code="ADM-7", role="administrator").status_code == 403, role
        refused = confirm(app, client, csrf, {"action": "delete", "user": "ADM-1"}, typed="ADM-1")
        assert refused.status_code == 403, role
    assert [a.user_id for a in accounts.list_accounts(redis_client, keys)] == ["ADM-1"]
    assert account_entries(redis_client, keys) == []


# ----------------------------------------------------------------------------- reset and delete


def test_deleting_asks_for_the_code_then_ends_the_accounts_sessions(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-3", role="supervisor", password=PASSWORD)
    victim, _ = signed_in(app, redis_client, keys, user_id="SUP-3", role="supervisor")
    assert victim.get("/").status_code == 200
    client, csrf = signed_in(app, redis_client, keys)

    opened = answer(pick(app, client, csrf, A.DELETE, "SUP-3"))
    assert opened[A.PENDING]["data"] == {"action": "delete", "user": "SUP-3"}
    assert opened[A.PANEL]["className"] == accounts_layout.SHOWN and opened[A.PANEL_TITLE]["children"] == "Delete SUP-3?"
    assert opened[A.DELETE_PART]["className"] != "hidden" and opened[A.RESET_PART]["className"] == "hidden"

    pending = opened[A.PENDING]["data"]
    wrong = answer(confirm(app, client, csrf, pending, typed="SUP-33"))
    assert wrong[A.PANEL_MESSAGE]["children"] == "Type SUP-3 in the box to confirm the deletion"
    assert accounts.get_account(redis_client, keys, "SUP-3") is not None

    done = answer(confirm(app, client, csrf, pending, typed="sup-3", triggered=A.CONFIRM_CODE))
    assert done[A.MESSAGE]["children"] == "SUP-3 is deleted; its open session ended."
    assert done[A.PANEL]["className"] == accounts_layout.HIDDEN and done[A.PENDING]["data"] is None
    assert accounts.get_account(redis_client, keys, "SUP-3") is None
    response = victim.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_an_administrator_cannot_delete_their_own_account(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    reply = answer(confirm(app, client, csrf, {"action": "delete", "user": "ADM-1"}, typed="ADM-1"))
    assert reply[A.PANEL_MESSAGE]["children"].startswith("You cannot delete your own account")
    assert accounts.get_account(redis_client, keys, "ADM-1") is not None
    (entry,) = account_entries(redis_client, keys)
    assert entry.outcome.value == "refused" and entry.target == "ADM-1"


def test_a_new_password_ends_the_sessions_and_is_never_sent_back(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="AUD-2", role="auditor", password=PASSWORD)
    victim, _ = signed_in(app, redis_client, keys, user_id="AUD-2", role="auditor")
    client, csrf = signed_in(app, redis_client, keys)
    opened = answer(pick(app, client, csrf, A.RESET, "AUD-2"))
    assert opened[A.PANEL_TITLE]["children"] == "New password for AUD-2"
    pending = opened[A.PENDING]["data"]

    differ = confirm(app, client, csrf, pending, password=NEW_PASSWORD, again=PASSWORD, triggered=A.RESET_GO)
    reply = answer(differ)
    assert reply[A.PANEL_MESSAGE]["children"].startswith("Passwords differ")
    assert reply[A.RESET_PASSWORD]["value"] == "" and reply[A.RESET_CONFIRM]["value"] == ""
    done = confirm(app, client, csrf, pending, password=NEW_PASSWORD, again=NEW_PASSWORD, triggered=A.RESET_CONFIRM)
    reply = answer(done)
    assert reply[A.MESSAGE]["children"] == "AUD-2 has a new password; its open session ended."
    assert A.LOCATION not in reply, "another account's reset does not sign the administrator out"
    assert NEW_PASSWORD.encode() not in done.data and NEW_PASSWORD.encode() not in differ.data
    assert accounts.verify_password(redis_client, keys, user_id="AUD-2", password=NEW_PASSWORD)
    assert victim.get("/audit", headers={"Accept": "text/html"}).status_code == 303


def test_resetting_ones_own_password_signs_one_out(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    reply = answer(confirm(app, client, csrf, {"action": "reset", "user": "ADM-1"}, password=NEW_PASSWORD,
                           again=NEW_PASSWORD, triggered=A.RESET_GO))
    assert reply[A.MESSAGE]["children"].endswith("You must sign in again with it.")
    assert reply[A.LOCATION]["href"] == "/login"
    assert client.get("/admin", headers={"Accept": "text/html"}).status_code == 303


def test_the_roles_note_lists_every_role_from_the_permission_table():
    note = dict(C.roles_note())
    assert set(note) == {"supervisor", "patrol", "auditor", "administrator"}
    assert "create, reset and delete staff accounts" in note["administrator"]
    assert "read the audit trail" in note["auditor"] and "staff accounts" not in note["auditor"]


# ----------------------------------------------------------------------------- sign-in delays (issue 10)


def unlock(app, client, csrf, user: str):
    """A row's "Lift sign-in delay" button pressed."""
    output, entry = next((o, e) for o, e in app.callback_map.items() if o.startswith(f"..{A.MESSAGE}.children@")
                         and [i["id"] for i in e["inputs"]] == [A.TABLE])
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
               for part in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs, "state": [],
            "inputs": [{"id": A.TABLE, "property": "cellRendererData", "value": pressed(A.UNLOCK, user)}],
            "changedPropIds": [f"{A.TABLE}.cellRendererData"]}
    return client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: csrf})


def test_a_slowed_account_is_shown_and_an_administrator_lifts_its_delay(app, redis_client, keys):
    accounts.create_account(redis_client, keys, user_id="SUP-2", role="supervisor", password=PASSWORD)
    throttle = Throttle(free_failures=0, first_delay_ms=60_000)
    guessing = accounts.attempt_for("10.0.0.66", "SUP-2")
    accounts.gate(redis_client, keys, guessing, throttle)
    assert accounts.gate(redis_client, keys, guessing, throttle).scope == "account"
    client, csrf = signed_in(app, redis_client, keys)
    rows = answer(post_callback(app, client, csrf, A.TABLE, {A.VERSION: 0}, f"{A.VERSION}.data"))[A.TABLE]["rowData"]
    slowed = {row["user"]: row["signin"] for row in rows if row["slowed"]}
    assert slowed == {"SUP-2": "slowed: 1 failed attempt, next attempt in 60 s"}
    unlocks = [row["user"] for row in rows for b in row["buttons"] if b["action"] == A.UNLOCK]
    assert unlocks == ["SUP-2"], "offered only for the slowed account"
    supervisor, supervisor_csrf = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    assert unlock(app, supervisor, supervisor_csrf, "SUP-2").status_code == 403, "administrators only"
    reply = answer(unlock(app, client, csrf, "SUP-2"))
    assert reply[A.MESSAGE]["children"] == "SUP-2 can sign in again at once: 1 failed attempt cleared."
    assert reply[A.VERSION]["data"] > 0, "the table is drawn again"
    assert accounts.gate(redis_client, keys, guessing, throttle).allowed
    (entry,) = [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCOUNT_UNLOCKED]
    assert (entry.actor, entry.target, entry.origin, entry.details) == ("ADM-1", "SUP-2", "127.0.0.1",
                                                                        {"failures": 1})
    denied = [e for e in audit_store.read(redis_client, keys) if e.action is Action.ACCESS_DENIED]
    assert [e.actor for e in denied] == ["SUP-1"]
