"""The accounts page's Dash callbacks: each names who acts and from where, calls logic.py, and turns its outcome
into what the page shows (a message, the table's version, the confirmation panel's state)."""

from __future__ import annotations

import dash
from dash import ctx, no_update
from dash.exceptions import PreventUpdate

from .... import clock
from ....domain.pages import SIGNIN
from ....web import auth as webauth
from ....errors import PictureUnavailable
from ....web.context import context
from ....store import accounts
from . import ids
from . import logic as C
from ...grid import clicked
from .layout import HIDDEN, SHOWN, table_rows


def _actor() -> C.Actor:
    identity = webauth.current_identity()  # the guard let only a signed-in administrator through
    return C.Actor(identity.user_id, webauth.client_origin())


def _message(outcome: C.Outcome) -> tuple[str, str]:
    return outcome.message, "ad-msg is-ok" if outcome.ok else "ad-msg is-refused"


def answer_table(_version) -> tuple:
    ui = context()
    identity = webauth.current_identity()
    try:
        found = ui.redis(lambda client: accounts.list_accounts(client, ui.keys))
        throttled = ui.redis(lambda client: accounts.throttle_states(client, ui.keys, [a.user_id for a in found]))
    except PictureUnavailable as error:
        return ([], "", f"The accounts cannot be read now ({error}). Try again in a moment.",
                "ad-msg is-refused")
    rows = C.account_rows(found, tz=ui.settings.timezone, now_ms=clock.now_ms(), you=identity and identity.user_id,
                          throttled=throttled)
    return table_rows(rows), f"{len(rows)} account{'s' if len(rows) != 1 else ''}", "", "ad-msg is-refused hidden"


def answer_create(_clicks, _submit_code, _submit_password, _submit_confirm, code, role, password, confirm) -> tuple:
    ui, actor = context(), _actor()
    try:
        outcome = ui.redis(lambda client: C.create(client, ui.keys, code=code, role=role, password=password,
                                                   confirm=confirm, actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Not created: the accounts cannot be written now ({error})")
    text, classes = _message(outcome)
    return text, classes, "" if outcome.ok else no_update, "", "", clock.now_ms() if outcome.ok else no_update


def answer_pick(cell, _cancel) -> tuple:
    """A row's Reset password or Delete (the grid's cellRendererData) opens the panel; Cancel closes it."""
    if ctx.triggered_id == ids.CANCEL:
        return None, HIDDEN, "", "hidden", "hidden", "", "", "", "", no_update
    picked = clicked(cell)
    if picked is None or picked[0] not in (ids.RESET, ids.DELETE):
        raise PreventUpdate  # another row button (unlock has its own callback)
    action, user = picked
    if action == ids.DELETE:
        return ({"action": "delete", "user": user}, SHOWN, f"Delete {user}?", "ad-part", "hidden", "", "", "", "",
                "")
    return ({"action": "reset", "user": user}, SHOWN, f"New password for {user}", "hidden", "ad-part", "", "", "",
            "", "")


def answer_unlock(cell) -> tuple:
    """A row's "Lift the sign-in delay": one click (it only gives the account back its normal sign-in)."""
    picked = clicked(cell)
    if picked is None or picked[0] != ids.UNLOCK:
        raise PreventUpdate  # another row button
    ui, actor = context(), _actor()
    try:
        outcome = ui.redis(lambda client: C.unlock(client, ui.keys, user_id=picked[1], actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Nothing changed: the accounts cannot be written now ({error})")
    text, classes = _message(outcome)
    return text, classes, clock.now_ms() if outcome.ok else no_update


def answer_confirm(_delete, _submit_code, _reset, _submit_confirm, _submit_password, pending, typed, password,
                   confirm) -> tuple:
    if not isinstance(pending, dict) or pending.get("action") not in ("delete", "reset"):
        raise PreventUpdate
    triggered = {ctx.triggered_id}
    deleting = pending["action"] == "delete"
    if (deleting and not triggered & {ids.DELETE_GO, ids.CONFIRM_CODE}) or (
            not deleting and not triggered & {ids.RESET_GO, ids.RESET_CONFIRM, ids.RESET_PASSWORD}):
        raise PreventUpdate  # Enter in the other part's field
    ui, actor = context(), _actor()
    user = pending.get("user")
    try:
        if deleting:
            outcome = ui.redis(lambda client: C.delete(client, ui.keys, user_id=user, typed=typed, actor=actor))
        else:
            outcome = ui.redis(lambda client: C.reset(client, ui.keys, user_id=user, password=password,
                                                      confirm=confirm, actor=actor))
    except PictureUnavailable as error:
        outcome = C.Outcome(False, f"Nothing changed: the accounts cannot be written now ({error})")
    away = dash.get_relative_path(SIGNIN) if outcome.ended_own_session else no_update
    if not outcome.ok:  # the panel stays open with what to fix; the passwords are emptied all the same
        return no_update, no_update, no_update, no_update, no_update, outcome.message, no_update, "", "", away
    text, classes = _message(outcome)
    return text, classes, clock.now_ms(), None, HIDDEN, "", "", "", "", away


