"""The zones page's server side against a real Redis, through Flask's test client, signed in as an
administrator: the Dash callbacks are POSTed as the renderer posts them (CSRF header included), and what
they leave in Redis is read back: the zone (load_zones), its audit entry (who, role, from where) and the
live delta that redraws the wall screen. A supervisor is refused the page and every callback, and a
refused request changes nothing.
"""

from __future__ import annotations

import base64
import json
import time

import orjson
import pytest

from dispatch.domain.audit import Action, AuditOutcome
from dispatch.domain.zones import make_zone
from dispatch.store.audit import read as read_audit
from dispatch.store.zones import load_zones, save_zone
from dispatch.ui.pages.zones import ids as P
from dispatch.ui.pages.zones import logic as C
from dispatch.web.app import MAX_REQUEST_BYTES, create_app
from dispatch.web.auth import CSRF_HEADER
from tests.support.pages_router import router_body
from tests.support.signed_in import signed_in as signed_in_as

SQUARE = [[-1.70, 48.10], [-1.66, 48.10], [-1.66, 48.12], [-1.70, 48.12]]
DRAWN = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"type": "polygon", "_leaflet_id": 71},
     "geometry": {"type": "Polygon", "coordinates": [SQUARE + [SQUARE[0]]]}}]}
FORM = {P.ZONE_ID: "Z-DRAWN", P.NAME: "Drawn on the map", P.DECREE: "2026-11-035-PREF35",
        P.VALID_FROM: "2026-01-01T08:00", P.VALID_UNTIL: "2099-12-31"}


@pytest.fixture
def app(settings):
    return create_app(settings)


def signed_in(app, redis_client, keys, *, user_id="ADM-1", role="administrator"):
    return signed_in_as(app, redis_client, keys, user_id=user_id, role=role)


def callback(app, client, csrf, trigger: str, values: dict, *, changed: str | None = None,
             clicked: str | None = None):
    """POST the callback whose first input is `trigger` (or, for a pattern-matching input, whose pattern type
    it is), as Dash's renderer does. `changed`: the input that fired (default `trigger`); `clicked`: the zone
    whose pattern button was clicked. Returns (HTTP status, the response's outputs or the raw body)."""
    def first_input(entry):
        spec = entry["inputs"][0]["id"]
        return json.loads(spec)["type"] if spec.startswith("{") else spec

    output, entry = next((output, entry) for output, entry in app.callback_map.items()
                         if "callback" in entry and entry["inputs"] and first_input(entry) == trigger)
    outputs = [{"id": part.split(".")[0], "property": part.split(".", 1)[1]}
               for part in output.strip(".").split("...")]
    button = {"type": trigger, "zone": clicked}

    def spec(item):
        if item["id"].startswith("{"):
            return [{"id": button, "property": item["property"], "value": 1}]
        value = values.get(f"{item['id']}.{item['property']}",
                           None if item["property"] in ("n_submit", "filename") else values.get(item["id"]))
        return {"id": item["id"], "property": item["property"], "value": value}

    fired = changed or trigger
    prop = next(i["property"] for i in entry["inputs"] if first_input({"inputs": [i]}) == fired)
    fired_id = json.dumps(button, sort_keys=True, separators=(",", ":")) if clicked else fired
    body = {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": [spec(i) for i in entry["inputs"]], "state": [spec(s) for s in entry["state"]],
            "changedPropIds": [f"{fired_id}.{prop}"]}
    reply = client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: csrf})
    return reply.status_code, (orjson.loads(reply.data)["response"] if reply.status_code == 200 else reply.data)


def press(app, client, csrf, action: str, zone_id: str, first_output: str):
    """A row button (P.EDIT or P.DELETE) pressed on the zone's row: the grid's cellRendererData changes, and
    the callback whose outputs start with `first_output` answers. Returns (HTTP status, its outputs or body)."""
    output, entry = next((output, entry) for output, entry in app.callback_map.items()
                         if [i["id"] for i in entry["inputs"]] == [P.TABLE] and output.startswith(f"..{first_output}"))
    outputs = [{"id": part.split(".")[0], "property": part.split(".", 1)[1]}
               for part in output.strip(".").split("...")]
    cell = {"value": {"action": action}, "colId": "buttons", "rowIndex": 0, "rowId": zone_id, "timestamp": 1}
    body = {"output": output, "outputs": outputs, "state": [],
            "inputs": [{"id": P.TABLE, "property": "cellRendererData", "value": cell}],
            "changedPropIds": [f"{P.TABLE}.cellRendererData"]}
    reply = client.post("/_dash-update-component", json=body, headers={CSRF_HEADER: csrf})
    return reply.status_code, (orjson.loads(reply.data)["response"] if reply.status_code == 200 else reply.data)


def text_of(component) -> str:
    """The text a rendered component shows (its string children, depth first)."""
    if isinstance(component, str):
        return component
    if isinstance(component, list):
        return "".join(text_of(c) for c in component)
    if isinstance(component, dict):
        return text_of(component.get("props", {}).get("children"))
    return ""


def live_zone_deltas(redis_client, keys) -> list[list[dict]]:
    return [orjson.loads(fields[b"zones"]) for _, fields in redis_client.xrange(keys.live) if b"zones" in fields]


def zone_entries(redis_client, keys):
    return [e for e in read_audit(redis_client, keys) if e.action in (Action.ZONE_SAVED, Action.ZONE_DELETED)]


def everything(redis_client, keys) -> dict:
    return {key: redis_client.dump(key) for key in sorted(redis_client.scan_iter(match=f"{{{keys.site}}}:*"))
            if not key.decode().startswith(keys.sessions)}


def stored_zone(keys, redis_client, zone_id="Z-GARE", **changes):
    now = int(time.time() * 1000)
    fields = dict(zone_id=zone_id, name="Gare", decree_ref="2026-11-036-PREF35", polygon=SQUARE,
                  valid_from_ms=now - 3_600_000, valid_until_ms=now + 3_600_000)
    save_zone(redis_client, keys, make_zone(**{**fields, **changes}))
    redis_client.delete(keys.live, keys.audit)  # what the page does is what the test looks at


# ----------------------------------------------------------------------------- the page


def test_the_page_is_the_administrators(app, redis_client, keys):
    admin, csrf = signed_in(app, redis_client, keys)
    assert admin.get("/admin/zones").status_code == 200
    rendered = admin.post("/_dash-update-component", json=router_body(app, "/admin/zones"), headers={CSRF_HEADER: csrf})
    assert rendered.status_code == 200 and b'"adz-root"' in rendered.data and b'"adz-edit-control"' in rendered.data
    supervisor, _ = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    assert supervisor.get("/admin/zones").status_code == 403
    [denied] = [e for e in read_audit(redis_client, keys) if e.action is Action.ACCESS_DENIED]
    assert (denied.actor, denied.target) == ("SUP-1", "page:admin:zones")


def test_the_list_and_the_map_show_the_stored_zones(app, redis_client, keys):
    stored_zone(keys, redis_client)
    stored_zone(keys, redis_client, "Z-OLD", valid_from_ms=1_000, valid_until_ms=2_000)
    client, csrf = signed_in(app, redis_client, keys)
    status, response = callback(app, client, csrf, P.VERSION, {})
    assert status == 200
    table = response[P.TABLE]["rowData"]
    assert [(row["zone_id"], row["status"]) for row in table] == [("Z-GARE", "active"), ("Z-OLD", "expired")]
    assert [[b["label"] for b in row["buttons"]] for row in table] == [["Edit", "Delete"]] * 2
    layers = response[P.ZONES_LAYER]["children"]
    assert [layer["props"]["id"] for layer in layers] == [f"{P.ZONE_SHAPE}-active-Z-GARE", f"{P.ZONE_SHAPE}-expired-Z-OLD"]
    assert response[P.COUNT]["children"] == "2 zones"
    assert response[P.MAP]["viewport"]["bounds"] == [[48.10, -1.70], [48.12, -1.66]], "first look: fit the zones"
    digest = response[P.DIGEST]["data"]
    status, unchanged = callback(app, client, csrf, P.VERSION, {P.TICK: 1, P.DIGEST: digest}, changed=P.TICK)
    assert (status, unchanged) == (200, {}), "a periodic look that finds nothing changed redraws nothing"
    redis_client.hdel(keys.zones, "Z-OLD")
    status, response = callback(app, client, csrf, P.VERSION, {P.TICK: 2, P.DIGEST: digest}, changed=P.TICK)
    assert status == 200 and response[P.COUNT]["children"] == "1 zone", "another administrator's change shows"
    assert P.MAP not in response, "the view stays where the administrator put it"


# ----------------------------------------------------------------------------- saving


def test_saving_a_drawn_polygon_stores_the_zone_with_its_audit_entry_and_live_delta(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    status, response = callback(app, client, csrf, P.SAVE, {P.SAVE: 1, **FORM, P.EDIT_CONTROL: DRAWN})
    assert status == 200, response
    assert text_of(response[P.MESSAGE]["children"]) == "Z-DRAWN saved: active until 31/12/2099 23:59"
    [zone] = load_zones(redis_client, keys)
    assert (zone.zone_id, zone.name, len(zone.polygon)) == ("Z-DRAWN", "Drawn on the map", 4)
    [entry] = zone_entries(redis_client, keys)
    assert (entry.action, entry.actor, entry.role.value, entry.origin, entry.target, entry.outcome) == (
        Action.ZONE_SAVED, "ADM-1", "administrator", "127.0.0.1", "Z-DRAWN", AuditOutcome.OK)
    assert entry.details["decree_ref"] == "2026-11-035-PREF35" and entry.details["vertices"] == 4
    [[delta]] = live_zone_deltas(redis_client, keys)
    assert delta["zone_id"] == "Z-DRAWN" and delta["properties"]["valid_until_ms"] == zone.valid_until_ms
    assert response[P.EDIT_CONTROL]["editToolbar"]["action"] == "clear all", "the drawing is cleared: it is saved"
    assert response[P.ZONE_ID]["value"] == "" and response[P.EDITING]["data"] is None
    assert response[P.VERSION]["data"]["fit"] is False

    status, response = callback(app, client, csrf, P.SAVE, {**FORM, P.NAME: "Renamed", f"{P.NAME}.n_submit": 1,
                                                            P.EDIT_CONTROL: DRAWN}, changed=P.NAME)
    assert status == 200 and text_of(response[P.MESSAGE]["children"]).startswith("Z-DRAWN replaced: active until")
    assert [z.name for z in load_zones(redis_client, keys)] == ["Renamed"], "Enter in a field saves too"


@pytest.mark.parametrize("changes, message", [
    ({P.ZONE_ID: "VILLEJEAN"}, "Not saved: zone id: bad format 'VILLEJEAN', expected Z- then capitals, digits or "
                               "'-', e.g. Z-VILLEJEAN"),
    ({P.EDIT_CONTROL: {"features": []}}, "Not saved: draw the perimeter on the map or import a GeoJSON file first"),
    ({P.VALID_UNTIL: "2025-12-31"}, "Not saved: valid until: 31/12/2025 23:59 is not after valid from "
                                    "(01/01/2026 08:00): give the decree's last day"),
])
def test_a_refused_form_changes_nothing_and_says_what_to_fix(app, redis_client, keys, changes, message):
    client, csrf = signed_in(app, redis_client, keys)
    before = everything(redis_client, keys)
    status, response = callback(app, client, csrf, P.SAVE, {P.SAVE: 1, **FORM, P.EDIT_CONTROL: DRAWN, **changes})
    assert status == 200 and text_of(response[P.MESSAGE]["children"]) == message
    assert P.VERSION not in response and everything(redis_client, keys) == before


def test_editing_loads_a_zone_and_saving_it_unchanged_keeps_its_exact_instants(app, redis_client, keys):
    stored_zone(keys, redis_client, valid_until_ms=int(time.time() * 1000) + 3_600_500)
    [original] = load_zones(redis_client, keys)
    client, csrf = signed_in(app, redis_client, keys)
    status, response = press(app, client, csrf, P.EDIT, "Z-GARE", P.MESSAGE)
    assert status == 200, response
    assert text_of(response[P.MESSAGE]["children"]).startswith("Editing Z-GARE: change the fields")
    form = {P.ZONE_ID: response[P.ZONE_ID]["value"], P.NAME: "Gare (new decree)", P.DECREE: "2026-12-001-PREF35",
            P.VALID_FROM: response[P.VALID_FROM]["value"], P.VALID_UNTIL: response[P.VALID_UNTIL]["value"]}
    editing = response[P.EDITING]["data"]
    assert form[P.ZONE_ID] == "Z-GARE" and editing["polygon"] == [list(v) for v in original.polygon]
    status, response = callback(app, client, csrf, P.SAVE, {P.SAVE: 1, **form, P.EDIT_CONTROL: {"features": []},
                                                             P.EDITING: editing})
    assert status == 200 and text_of(response[P.MESSAGE]["children"]).startswith("Z-GARE replaced: active until")
    [saved] = load_zones(redis_client, keys)
    assert (saved.valid_from_ms, saved.valid_until_ms, saved.polygon) == (
        original.valid_from_ms, original.valid_until_ms, original.polygon)
    assert (saved.name, saved.decree_ref) == ("Gare (new decree)", "2026-12-001-PREF35")


# ----------------------------------------------------------------------------- importing


def upload(document) -> str:
    return "data:application/geo+json;base64," + base64.b64encode(json.dumps(document).encode()).decode()


def polygon_feature(**properties):
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Polygon", "coordinates": [SQUARE + [SQUARE[0]]]}}


def test_importing_a_file_saves_every_zone_each_audited_or_none(app, redis_client, keys):
    stored_zone(keys, redis_client, "Z-B")
    client, csrf = signed_in(app, redis_client, keys)
    collection = {"type": "FeatureCollection", "features": [polygon_feature(zone_id="Z-A", name="A"),
                                                            polygon_feature(zone_id="Z-B", name="B")]}
    form = {P.DECREE: "2026-11-035-PREF35", P.VALID_FROM: "2026-01-01T08:00", P.VALID_UNTIL: "2099-12-31"}
    status, response = callback(app, client, csrf, P.UPLOAD, {P.UPLOAD: upload(collection),
                                                              f"{P.UPLOAD}.filename": "rennes.geojson", **form})
    assert status == 200, response
    assert text_of(response[P.MESSAGE]["children"]) == (
        "2 zones imported from rennes.geojson: Z-A (new, active until 31/12/2099 23:59), "
        "Z-B (replaced, active until 31/12/2099 23:59)")
    assert response[P.UPLOAD]["contents"] is None, "the same file can be chosen again"
    assert response[P.VERSION]["data"]["fit"] is True
    assert [(z.zone_id, z.name) for z in load_zones(redis_client, keys)] == [("Z-A", "A"), ("Z-B", "B")]
    assert [(e.target, e.actor, e.origin) for e in zone_entries(redis_client, keys)] == [
        ("Z-A", "ADM-1", "127.0.0.1"), ("Z-B", "ADM-1", "127.0.0.1")]
    assert [[item["zone_id"] for item in delta] for delta in live_zone_deltas(redis_client, keys)] == [["Z-A"], ["Z-B"]]

    before = everything(redis_client, keys)
    bad = {"type": "FeatureCollection", "features": [polygon_feature(zone_id="Z-C", name="C"),
                                                     {**polygon_feature(zone_id="Z-D", name="D"),
                                                      "geometry": {"type": "MultiPolygon", "coordinates": []}}]}
    status, response = callback(app, client, csrf, P.UPLOAD, {P.UPLOAD: upload(bad), **form})
    assert status == 200 and text_of(response[P.MESSAGE]["children"]) == (
        "Not imported: the file refused, nothing imported: feature 2 of 2 (Z-D): geometry must be a Polygon, "
        "got MultiPolygon; make one zone per polygon")
    assert everything(redis_client, keys) == before, "Z-C, though fine, is not saved either"


def test_a_file_at_the_import_limit_goes_through_and_a_larger_request_is_refused_unread(app, redis_client, keys):
    client, csrf = signed_in(app, redis_client, keys)
    form = {P.DECREE: "2026-11-035-PREF35", P.VALID_FROM: "2026-01-01T08:00", P.VALID_UNTIL: "2099-12-31"}
    largest = polygon_feature(zone_id="Z-BIG", name="Big")
    largest["properties"]["padding"] = "x" * (C.MAX_UPLOAD_BYTES - len(json.dumps(largest)) - 20)
    assert C.MAX_UPLOAD_BYTES - 40 < len(json.dumps(largest)) <= C.MAX_UPLOAD_BYTES
    status, response = callback(app, client, csrf, P.UPLOAD, {P.UPLOAD: upload(largest), **form})
    assert status == 200, "the web request limit leaves room for the largest file the page accepts"
    assert [z.zone_id for z in load_zones(redis_client, keys)] == ["Z-BIG"]

    before = everything(redis_client, keys)
    too_large = client.post("/_dash-update-component", data=b"{" + b" " * MAX_REQUEST_BYTES + b"}",
                            content_type="application/json", headers={CSRF_HEADER: csrf})
    assert too_large.status_code == 413
    assert too_large.get_json() == {"error": "request too large: at most 4 MiB"}
    assert everything(redis_client, keys) == before


# ----------------------------------------------------------------------------- deleting


def delete_flow(app, client, csrf, zone_id: str, answer: str):
    """Delete pressed on the zone's row, then the confirmation answered (CONFIRM_YES or CONFIRM_NO)."""
    status, asked = press(app, client, csrf, P.DELETE, zone_id, P.PENDING)
    assert status == 200, asked
    status, answered = callback(app, client, csrf, P.CONFIRM_YES, {answer: 1, P.PENDING: asked[P.PENDING]["data"]},
                                changed=answer)
    assert status == 200, answered
    return asked, answered


def test_deleting_asks_first_then_deletes_with_its_audit_entry_and_live_delta(app, redis_client, keys):
    stored_zone(keys, redis_client)
    client, csrf = signed_in(app, redis_client, keys)
    asked, kept = delete_flow(app, client, csrf, "Z-GARE", P.CONFIRM_NO)
    assert asked[P.CONFIRM_BOX]["className"] == "adz-confirm" and "Delete Z-GARE?" in asked[P.CONFIRM_TEXT]["children"]
    assert text_of(kept[P.MESSAGE]["children"]) == "Nothing deleted." and len(load_zones(redis_client, keys)) == 1
    assert zone_entries(redis_client, keys) == []

    asked, deleted = delete_flow(app, client, csrf, "Z-GARE", P.CONFIRM_YES)
    assert text_of(deleted[P.MESSAGE]["children"]) == "Z-GARE deleted."
    assert deleted[P.CONFIRM_BOX]["className"] == "adz-confirm hidden" and load_zones(redis_client, keys) == []
    [entry] = zone_entries(redis_client, keys)
    assert (entry.action, entry.actor, entry.role.value, entry.origin, entry.target, entry.outcome) == (
        Action.ZONE_DELETED, "ADM-1", "administrator", "127.0.0.1", "Z-GARE", AuditOutcome.OK)
    assert live_zone_deltas(redis_client, keys) == [[{"zone_id": "Z-GARE", "closed": True}]]

    _, again = delete_flow(app, client, csrf, "Z-GARE", P.CONFIRM_YES)  # a second page, still showing it
    assert text_of(again[P.MESSAGE]["children"]) == "Z-GARE was already gone: nothing deleted."
    assert zone_entries(redis_client, keys)[-1].outcome is AuditOutcome.REFUSED


# ----------------------------------------------------------------------------- who may


def test_a_supervisor_is_refused_every_zone_callback_and_changes_nothing(app, redis_client, keys):
    stored_zone(keys, redis_client)
    before = everything(redis_client, keys)
    client, csrf = signed_in(app, redis_client, keys, user_id="SUP-1", role="supervisor")
    status, reply = callback(app, client, csrf, P.SAVE, {P.SAVE: 1, **FORM, P.EDIT_CONTROL: DRAWN})
    assert status == 403 and b"manage_zones" in reply
    status, _ = callback(app, client, csrf, P.UPLOAD, {P.UPLOAD: upload(polygon_feature(
        zone_id="Z-X", name="X", decree_ref="D", valid_from_ms=1, valid_until_ms=2))})
    assert status == 403
    status, _ = callback(app, client, csrf, P.CONFIRM_YES, {P.CONFIRM_YES: 1, P.PENDING: {"zone_id": "Z-GARE"}})
    assert status == 403
    assert len(load_zones(redis_client, keys)) == 1
    denied = [e for e in read_audit(redis_client, keys) if e.action is Action.ACCESS_DENIED]
    assert len(denied) == 3 and {e.actor for e in denied} == {"SUP-1"}
    after = everything(redis_client, keys)
    assert {k: v for k, v in after.items() if k != keys.audit.encode()} == {
        k: v for k, v in before.items() if k != keys.audit.encode()}, "only the refusals were recorded"
