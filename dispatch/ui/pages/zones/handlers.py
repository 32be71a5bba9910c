"""The zones page's Dash callbacks: who is signed in, Redis, what to refresh; the plain work is logic.py's."""

from __future__ import annotations

import hashlib
import time

import dash

from dash import ctx, html, no_update

from .... import clock
from ....web import auth as webauth
from ....store.zones import delete_zone, load_zones, save_zone
from ....errors import PictureUnavailable
from ....web.context import context
from . import ids
from . import logic as C
from ...grid import clicked
from .layout import table_rows


def _message(text: str, kind: str) -> html.Div:
    """kind: ok, refused or info; the words say it too."""
    return html.Div(text, className=f"adz-msg is-{kind}")


def _version(fit: bool = False) -> dict:
    return {"at": time.monotonic_ns(), "fit": fit}


def _saving(operation):
    """Run `operation(client, keys, who)` with the signed-in administrator as the audit trail's actor."""
    ui = context()
    identity = webauth.current_identity()
    who = {"actor": identity.user_id, "role": identity.role.value, "origin": webauth.client_origin(),
           "live_maxlen": ui.settings.live_maxlen}
    return ui.redis(lambda client: operation(client, ui.keys, who))


def answer_refresh(version, _tick, digest):
    ui = context()
    now = clock.now_ms()
    try:
        zones = ui.redis(lambda client: load_zones(client, ui.keys))
    except PictureUnavailable as error:
        # The digest forgotten (not None: that would frame the map again), so the next good read redraws the list
        # and takes the error away.
        return no_update, no_update, "", "", no_update, f"The zones cannot be read now: {error}"
    tz = ui.settings.timezone
    rows = C.zone_rows(zones, now, tz)
    seen = hashlib.sha256(repr((rows, [z.polygon for z in zones])).encode()).hexdigest()
    # Frame the zones on the page's first look (nothing shown yet) and after an import, not after every save.
    fit = bool(zones) and (digest is None or (isinstance(version, dict) and version.get("fit") is True))
    if seen == digest and not fit:
        return no_update, no_update, no_update, no_update, no_update, no_update
    count = f"{len(zones)} zone{'s' if len(zones) != 1 else ''}"
    return (table_rows(rows), [C.zone_layer(zone, now, tz) for zone in zones], count,
            seen, C.fit_viewport(zones) if fit else no_update, "")


def answer_perimeter(geojson, editing):
    _, note = C.perimeter(geojson, editing)
    editing_id = editing.get("zone_id") if isinstance(editing, dict) else None
    return note, f"Editing {editing_id}" if isinstance(editing_id, str) else "New zone"


def answer_save(_clicks, _s1, _s2, _s3, _s4, _s5, zone_id, name, decree_ref, valid_from, valid_until, geojson,
                editing):
    ui = context()
    tz = ui.settings.timezone
    ring, _ = C.perimeter(geojson, editing)
    try:
        zone = C.zone_from_form(zone_id=zone_id, name=name, decree_ref=decree_ref, valid_from=valid_from,
                                valid_until=valid_until, polygon=ring, tz=tz, editing=editing)
    except C.ZoneRefused as refusal:
        return (_message(f"Not saved: {refusal}", "refused"), no_update, no_update, no_update, no_update,
                no_update, no_update)

    def save(client, keys, who):
        replaced = bool(client.hexists(keys.zones, zone.zone_id))
        save_zone(client, keys, zone, **who)
        return replaced

    try:
        replaced = _saving(save)
    except PictureUnavailable as error:
        return (_message(f"Not saved: {error}", "refused"), no_update, no_update, no_update, no_update, no_update,
                no_update)
    clear_drawn = {"mode": "remove", "action": "clear all", "n_clicks": clock.now_ms()} if C.drawn_polygons(geojson) \
        else no_update
    return (_message(C.saved_message(zone, clock.now_ms(), tz, replaced=replaced), "ok"), _version(), clear_drawn, None,
            "", "", "")


def answer_import(contents, filename, zone_id, name, decree_ref, valid_from, valid_until):
    if not contents:
        raise dash.exceptions.PreventUpdate
    ui = context()
    tz = ui.settings.timezone
    try:
        defaults = C.form_defaults(zone_id=zone_id, name=name, decree_ref=decree_ref, valid_from=valid_from,
                                   valid_until=valid_until, tz=tz)
        zones = C.zones_from_upload(contents, filename, defaults)
    except C.ZoneRefused as refusal:
        return _message(f"Not imported: {refusal}", "refused"), no_update, None

    def save_all(client, keys, who):
        existing = {zone.zone_id for zone in zones if client.hexists(keys.zones, zone.zone_id)}
        for zone in zones:
            save_zone(client, keys, zone, **who)
        return existing

    try:
        replaced = _saving(save_all)
    except PictureUnavailable as error:
        return _message(f"Not imported: {error}", "refused"), no_update, None
    return _message(C.imported_message(zones, replaced, filename, clock.now_ms(), tz), "ok"), _version(fit=True), None


def _pressed(cell, action: str) -> str:
    """The zone whose row button `action` was pressed (the grid's cellRendererData); any other change: no update."""
    picked = clicked(cell)
    if picked is None or picked[0] != action:
        raise dash.exceptions.PreventUpdate
    return picked[1]


def answer_edit(cell):
    zone_id = _pressed(cell, ids.EDIT)
    ui = context()
    try:
        found = [z for z in ui.redis(lambda client: load_zones(client, ui.keys)) if z.zone_id == zone_id]
    except PictureUnavailable as error:
        return (_message(f"Cannot load {zone_id}: {error}", "refused"), *[no_update] * 7)
    if not found:
        return (_message(f"{zone_id} no longer exists (deleted meanwhile?)", "refused"), *[no_update] * 7)
    state = C.editing_state(found[0], ui.settings.timezone)
    return (_message(f"Editing {zone_id}: change the fields, draw a new perimeter to replace it, then Save. "
                     "Saving with the same id replaces the zone.", "info"),
            state["zone_id"], state["name"], state["decree_ref"], state["from_text"], state["until_text"], state,
            C.fit_viewport(found))


def answer_clear(_clicks, geojson):
    now_text = C.default_from_text(clock.now_ms(), context().settings.timezone)
    clear_drawn = {"mode": "remove", "action": "clear all", "n_clicks": clock.now_ms()} if C.drawn_polygons(geojson) \
        else no_update
    return _message("Form cleared: a new zone.", "info"), "", "", "", now_text, "", None, clear_drawn


def answer_ask_delete(cell):
    zone_id = _pressed(cell, ids.DELETE)
    return ({"zone_id": zone_id},
            f"Delete {zone_id}? Drones will no longer be authorised there. This cannot be undone "
            "(the deletion is recorded on the audit trail).", "adz-confirm")


def answer_delete(_yes, _no, pending):
    zone_id = pending.get("zone_id") if isinstance(pending, dict) else None
    if ctx.triggered_id != ids.CONFIRM_YES or not isinstance(zone_id, str):
        return _message("Nothing deleted.", "info"), no_update, None, "adz-confirm hidden"
    try:
        deleted = _saving(lambda client, keys, who: delete_zone(client, keys, zone_id, **who))
    except PictureUnavailable as error:
        return _message(f"Not deleted: {error}", "refused"), no_update, no_update, no_update
    if not deleted:
        return (_message(f"{zone_id} was already gone: nothing deleted.", "refused"), _version(), None,
                "adz-confirm hidden")
    return _message(f"{zone_id} deleted.", "ok"), _version(), None, "adz-confirm hidden"
