"""The auditor's page against a real Redis, through the real app (`create_app`) and Flask's test client:
its Dash callbacks POSTed as the renderer posts them (session cookie, CSRF header), on a trail seeded with
store.audit.record. Checked: what the list shows for a filter, that each showing leaves exactly one
`audit_viewed` entry, what the CSV export holds and records, and who is refused."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from dispatch.clock import now_ms
from dispatch.domain.audit import Action, AuditOutcome, make_entry
from dispatch.store import audit as audit_store
from dispatch.ui.pages.audit import logic as C
from dispatch.ui.pages.audit import ids as P
from dispatch.web.app import create_app
from dispatch.web.auth import CSRF_HEADER
from tests.support.pages_router import router_body
from tests.support.signed_in import signed_in as signed_in_as

STATES = {P.FROM: "", P.TO: "", P.ACTOR: "", P.ROLE: "any", P.ACTIONS: [], P.TARGET: "", P.OUTCOME: "any"}


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def trail(redis_client, keys) -> dict[str, str]:
    """Five entries of the last minute, as the product writes them; returns their stream ids by name."""
    at = now_ms() - 30_000
    written = {
        "assigned": dict(actor="SUP-1", role="supervisor", action="assignment_created", target="asg-000001",
                         details={"patrol_id": "BAC-12", "sighting_id": "sight-0001"}),
        "zone": dict(actor="ADM-1", role="administrator", action="zone_saved", target="Z-1",
                     details={"decree_ref": "2026-114"}),
        "refused": dict(actor="BAC-12", role="patrol", action="assignment_state_changed", target="asg-000001",
                        outcome="refused", reason="on_scene cannot follow assigned"),
        "denied": dict(actor="SUP-2", role="supervisor", action="access_denied", target="page:audit",
                       outcome="refused", reason="supervisor lacks audit_view"),
        "trimmed": dict(actor="system", role="system", action="retention_trimmed", target=keys.site,
                        details={"removed": 3}),
    }
    ids = {}
    for number, (name, fields) in enumerate(written.items()):
        ids[name] = audit_store.record(redis_client, keys, make_entry(ts=at + number, origin="10.0.0.9", **fields))
    return ids


def signed_in(app, redis_client, keys, *, user_id="AUD-1", role="auditor"):
    return signed_in_as(app, redis_client, keys, user_id=user_id, role=role)


def post_callback(app, client, csrf, output_part: str, *, trigger: str | None, states: dict):
    """The request Dash's renderer sends for the callback whose outputs include `output_part`."""
    output = next(key for key in app.callback_map if output_part in key)
    entry = app.callback_map[output]
    inputs = [{"id": i["id"], "property": i["property"], "value": 1 if i["id"] == trigger else 0}
              for i in entry["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": states.get(s["id"])} for s in entry["state"]]
    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1]} for part in output.strip(".").split("...")]
    trigger_prop = next((f"{i['id']}.{i['property']}" for i in entry["inputs"] if i["id"] == trigger), None)
    body = {"output": output, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": [trigger_prop] if trigger_prop else []}
    headers = {CSRF_HEADER: csrf} if csrf else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def show(app, client, csrf, trigger=P.SHOW, **states):
    return post_callback(app, client, csrf, f"{P.TABLE}.rowData", trigger=trigger, states={**STATES, **states})


def answer(response) -> dict:
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)["response"]


def shown_ids(response_body: dict) -> list[str]:
    return [row["entry_id"] for row in response_body[P.TABLE]["rowData"]]


def viewed(redis_client, keys):
    return [e for e in audit_store.read(redis_client, keys) if e.action is Action.AUDIT_VIEWED]


# ----------------------------------------------------------------------------- the list


def test_the_list_shows_what_the_filter_admits_and_records_one_viewing(app, trail, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    body = answer(show(app, client, csrf, **{P.ACTIONS: ["assignment_created", "zone_saved"]}))
    assert shown_ids(body) == [trail["zone"], trail["assigned"]], "newest first"
    assert body[P.SUMMARY]["children"]["props"]["children"].startswith("2 entries, newest first.")
    assert body[P.ERRORS]["children"] == []
    applied = body[P.APPLIED]["data"]
    assert applied["actions"] == ["assignment_created", "zone_saved"] and applied["from_ms"] is None

    [entry] = viewed(redis_client, keys)
    assert (entry.actor, entry.role.value, entry.target, entry.origin) == ("AUD-1", "auditor", "audit", "127.0.0.1")
    assert entry.details["actions"] == "assignment_created,zone_saved"
    assert entry.details["rows"] == 2 and entry.details["truncated"] is False
    assert entry.details["to_ms"] == applied["to_ms"]

    refused = answer(show(app, client, csrf, **{P.OUTCOME: "refused", P.ACTOR: "bac-12"}))
    assert shown_ids(refused) == [trail["refused"]]
    row = refused[P.TABLE]["rowData"][0]
    assert row["refused"] is True and row["outcome"] == "✖ refused"  # the grid's rule marks the row au-row-refused
    assert len(viewed(redis_client, keys)) == 2, "one entry per showing"


def test_the_page_load_shows_the_default_window_and_a_second_showing_lists_the_first(app, trail, redis_client,
                                                                                      keys):
    client, csrf = signed_in(app, redis_client, keys)
    default_from = C.quick_from(C.DEFAULT_QUICK, now_ms=now_ms(), tz=app.server.extensions["dispatch"].settings.timezone)
    first = answer(show(app, client, csrf, trigger=None, **{P.FROM: default_from}))  # the call made on page load
    assert shown_ids(first) == [trail[name] for name in ("trimmed", "denied", "refused", "zone", "assigned")]
    second = answer(show(app, client, csrf, **{P.FROM: default_from, P.ACTIONS: ["audit_viewed"]}))
    [earlier] = viewed(redis_client, keys)[:1]
    assert shown_ids(second) == [earlier.entry_id], "viewing the trail is on the trail"


def test_a_quick_window_rewrites_the_form_and_shows(app, trail, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    body = answer(show(app, client, csrf, trigger=P.QUICK["hour"], **{P.FROM: "2020-01-01T00:00",
                                                                      P.TO: "2020-01-02T00:00"}))
    assert body[P.TO]["value"] == "" and body[P.FROM]["value"] > "2020"
    assert len(shown_ids(body)) == 5
    assert body[P.APPLIED]["data"]["to_ms"] - body[P.APPLIED]["data"]["from_ms"] <= 3_600_000 + 60_000


def test_bad_values_are_refused_readably_and_nothing_is_recorded(app, trail, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    body = answer(show(app, client, csrf, **{P.FROM: "tomorrow", P.ACTOR: "Jean Dupont"}))
    assert P.TABLE not in body and P.APPLIED not in body, "the list on screen stays as it was"
    text = orjson.dumps(body[P.ERRORS]["children"]).decode()
    assert "From: give a date and a time" in text and "Actor: type a code exactly as recorded" in text
    assert "Dupont" not in text
    assert viewed(redis_client, keys) == []


def test_a_long_list_is_cut_and_says_so(app, redis_client, keys):
    pipe = redis_client.pipeline(transaction=False)
    for number in range(C.LIST_LIMIT + 1):
        audit_store.record(pipe, keys, make_entry(ts=now_ms(), actor="SUP-1", role="supervisor",
                                                  action="sign_in", details={"n": number}))
    pipe.execute()
    client, csrf = signed_in(app, redis_client, keys)
    body = answer(show(app, client, csrf))
    assert len(shown_ids(body)) == C.LIST_LIMIT
    assert body[P.SUMMARY]["children"]["props"]["children"].startswith(
        f"Showing the newest {C.LIST_LIMIT} of more — narrow the filter.")
    assert "is-truncated" in body[P.SUMMARY]["children"]["props"]["className"]
    assert viewed(redis_client, keys)[0].details["truncated"] is True


# ----------------------------------------------------------------------------- the export


def test_export_sends_the_lists_entries_as_csv_and_records_it(app, trail, redis_client, keys, settings):
    client, csrf = signed_in(app, redis_client, keys)
    listed = answer(show(app, client, csrf, **{P.OUTCOME: "refused"}))
    response = post_callback(app, client, csrf, P.DOWNLOAD, trigger=P.EXPORT,
                             states={P.APPLIED: listed[P.APPLIED]["data"]})
    body = answer(response)
    download = body[P.DOWNLOAD]["data"]
    assert download["filename"] == C.export_filename(keys.site, now_ms(), settings.timezone)
    assert download["filename"].startswith(f"audit-{keys.site}-")
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    assert [r["entry_id"] for r in rows] == [trail["refused"], trail["denied"]], "oldest first"
    assert {r["outcome"] for r in rows} == {"refused"} and rows[0]["reason"] == "on_scene cannot follow assigned"
    assert body[P.EXPORT_MESSAGE]["children"] == f"{download['filename']}: 2 entries."

    [export] = [e for e in audit_store.read(redis_client, keys) if e.action is Action.EXPORT]
    assert (export.actor, export.role.value, export.origin) == ("AUD-1", "auditor", "127.0.0.1")
    assert export.details["rows"] == 2 and export.details["outcomes"] == "refused"
    assert export.details["format"] == "csv"


def test_export_without_a_list_says_what_to_do(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    body = answer(post_callback(app, client, csrf, P.DOWNLOAD, trigger=P.EXPORT, states={P.APPLIED: None}))
    assert P.DOWNLOAD not in body and "Show a list first" in body[P.EXPORT_MESSAGE]["children"]
    forged = answer(post_callback(app, client, csrf, P.DOWNLOAD, trigger=P.EXPORT,
                                  states={P.APPLIED: {"actors": ["Jean Dupont"]}}))
    assert "press Show, then Export" in forged[P.EXPORT_MESSAGE]["children"]
    assert audit_store.read(redis_client, keys) == []


# ----------------------------------------------------------------------------- who may


def test_who_may_open_list_and_export(app, trail, redis_client, keys):
    anonymous = app.server.test_client()
    assert show(app, anonymous, None).status_code == 401
    assert anonymous.get("/audit").status_code == 303

    supervisor, csrf = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    assert supervisor.get("/audit").status_code == 403
    assert show(app, supervisor, csrf).status_code == 403
    applied = C.applied_json(C.parse_form("", "", "", "any", [], "", "any", tz="UTC", now_ms=now_ms()))
    assert post_callback(app, supervisor, csrf, P.DOWNLOAD, trigger=P.EXPORT,
                         states={P.APPLIED: applied}).status_code == 403, "export permission alone is not enough"

    auditor, csrf = signed_in(app, redis_client, keys)
    assert auditor.get("/audit").status_code == 200
    assert show(app, auditor, None).status_code == 403, "no CSRF token, no list"

    administrator, csrf = signed_in(app, redis_client, keys, user_id="ADM-1", role="administrator")
    assert administrator.get("/audit").status_code == 200
    assert answer(show(app, administrator, csrf))[P.TABLE]["rowData"]
    assert post_callback(app, administrator, csrf, P.DOWNLOAD, trigger=P.EXPORT,
                         states={P.APPLIED: applied}).status_code == 403, "administrators may read, not export"

    entries = audit_store.read(redis_client, keys)
    assert not [e for e in entries if e.action is Action.EXPORT]
    assert [e.actor for e in entries if e.action is Action.AUDIT_VIEWED] == ["ADM-1"]
    denied = [e for e in entries if e.action is Action.ACCESS_DENIED and e.actor == "SUP-1"]
    assert denied and all(e.outcome is AuditOutcome.REFUSED for e in denied)


def render_page(app, client, csrf) -> dict:
    """The page as the router callback renders it into the page container (Dash's component JSON)."""
    response = client.post("/_dash-update-component", json=router_body(app, "/audit"), headers={CSRF_HEADER: csrf})
    return answer(response)["_pages_content"]["children"]


def components(node):
    """Every component in a rendered tree, depth first."""
    if isinstance(node, list):
        for child in node:
            yield from components(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from components(node["props"].get("children"))


def test_the_page_offers_no_edit_and_says_how_long_entries_are_kept(app, redis_client, keys, settings):
    auditor, csrf = signed_in(app, redis_client, keys)
    page = render_page(app, auditor, csrf)
    text = orjson.dumps(page).decode()
    assert "The trail is append-only; entries cannot be changed or deleted here." in text
    assert f"Retention: {settings.audit_retention_days:g} days." in text
    buttons = {c["props"].get("id") or c["props"].get("children"): c["props"] for c in components(page)
               if c["type"] == "Button"}
    assert set(buttons) == {P.SHOW, P.EXPORT, *P.QUICK.values(), "Sign out"}, "nothing that edits or deletes"
    assert buttons[P.EXPORT]["disabled"] is False

    administrator, csrf = signed_in(app, redis_client, keys, user_id="ADM-1", role="administrator")
    admin_buttons = {c["props"].get("id"): c["props"] for c in components(render_page(app, administrator, csrf))
                     if c["type"] == "Button"}
    assert admin_buttons[P.EXPORT]["disabled"] is True
    assert admin_buttons[P.EXPORT]["title"] == "Exporting needs the export permission (auditors)"
