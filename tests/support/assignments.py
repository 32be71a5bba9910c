"""An assignment walked through its whole life, as the scenarios of the history and replay tests write it."""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.store.assignments import assign, transition


def walk_to_cleared(redis_client, keys, *, sighting_id: str, patrol_id: str, assignment_id: str,
                    at: Sequence[int], outcome: str = "dispersed"):
    """SUP-1 assigns `patrol_id` to `sighting_id` at at[0]; the patrol acknowledges, drives, arrives and clears
    (with `outcome`) at at[1], at[2], at[3] and at[4] (ms). Returns the assignment."""
    assigned, *steps = at
    sent = assign(redis_client, keys, sighting_id=sighting_id, patrol_id=patrol_id, supervisor_id="SUP-1",
                  now_ms=assigned, assignment_id=assignment_id)
    for state, when in zip(("acknowledged", "en_route", "on_scene", "cleared"), steps, strict=True):
        transition(redis_client, keys, assignment_id=sent.assignment_id, new_state=state, actor_id=patrol_id,
                   actor_role="patrol", now_ms=when, **({"outcome": outcome} if state == "cleared" else {}))
    return sent
