"""Replay with recorded sighting endings: closed, merged, expired sightings leave the picture at their ending,
the event list shows each ending, and the shift's outcome counts come from sightings.outcome_counts."""

from __future__ import annotations

import orjson

from dispatch.domain.replay.history import History, ending_detail, frame_payload
from dispatch.domain.replay.export import export_geojson
from dispatch.domain.replay.metrics import outcomes
from dispatch.domain.sightings import OUTCOME_ORDER
from dispatch.ui.pages.replay import figures
from tests.domain.replay.test_history import T0, drone, lifecycle, patrol, sighting


def ending(sighting_id, disposition, ts, *, actor="SUP-1", number=None, **extra) -> dict:
    """An ending as {site}:sightings:endings holds it (store/assignments.py), decoded."""
    record = {"sighting_id": sighting_id, "closed": True, "disposition": disposition}
    if number:
        record["number"] = number
    return {"event": f"sighting_{disposition}", "sighting_id": sighting_id, "disposition": disposition,
            "ts": str(ts), "actor": actor, "sighting": orjson.dumps(record).decode(), **extra}


def open_ids(history: History, t: int) -> list[str]:
    return sorted(s["sighting_id"] for s in history.picture_at(t)["sightings"])


def test_a_closed_sighting_leaves_the_picture_at_its_ending_not_at_the_window_end():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0), sighting("sight-0002", ts=T0 + 1000), drone(ts=T0 + 500_000)],
        bounds=(T0, T0 + 600_000),
        endings=[ending("sight-0001", "closed", T0 + 60_000, reason="false_alarm", number="S-0001")])
    assert open_ids(history, T0 + 59_999) == ["sight-0001", "sight-0002"]
    assert open_ids(history, T0 + 60_000) == ["sight-0002"]
    assert open_ids(history, T0 + 550_000) == ["sight-0002"]


def test_a_later_copy_of_an_ended_sighting_never_brings_it_back():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0), sighting("sight-0001", ts=T0 + 120_000, lat=48.2)],
        endings=[ending("sight-0001", "expired", T0 + 60_000, actor="system")], bounds=(T0, T0 + 300_000))
    assert open_ids(history, T0 + 200_000) == []


def test_merged_and_expired_sightings_end_too_and_an_unknown_sighting_is_ignored():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0), sighting("sight-0002", ts=T0), sighting("sight-0003", ts=T0)],
        endings=[ending("sight-0002", "merged", T0 + 10_000, merged_into="sight-0001"),
                 ending("sight-0003", "expired", T0 + 20_000, actor="system"),
                 ending("sight-9999", "closed", T0 + 5_000, reason="referred")],
        bounds=(T0, T0 + 30_000))
    assert open_ids(history, T0 + 15_000) == ["sight-0001", "sight-0003"]
    assert open_ids(history, T0 + 25_000) == ["sight-0001"]


def test_the_event_list_shows_each_ending_with_its_disposition_reason_and_number():
    history = History.from_messages(
        [patrol(ts=T0), sighting("sight-0001", ts=T0), sighting("sight-0002", ts=T0 + 1000),
         sighting("sight-0003", ts=T0 + 2000)],
        lifecycle("asg-000001", T0 + 10_000, sighting_id="sight-0003"),
        endings=[ending("sight-0001", "closed", T0 + 50_000, reason="false_alarm", number="S-0142"),
                 ending("sight-0002", "merged", T0 + 60_000, merged_into="sight-0001abcdef"),
                 ending("sight-0003", "dispatched", T0 + 130_000, actor="BAC-1", number="S-0144")],
        bounds=(T0, T0 + 200_000))
    events = history.events()
    ended = events[(events["kind"] == "sighting") & (events["event"] != "created")]
    assert ended[["event", "id", "actor", "detail"]].values.tolist() == [
        ["closed", "sight-0001", "SUP-1", "S-0142 closed: false alarm"],
        ["merged", "sight-0002", "SUP-1", "merged into sight-00"],
        ["dispatched", "sight-0003", "BAC-1", "S-0144 dispatched"],
    ]
    cleared = events.index[(events["kind"] == "assignment") & (events["event"] == "cleared")][0]
    assert ended.index[-1] > cleared, "at the same instant the crew's clear comes before the ending it causes"


def test_ending_detail_words_other_reason_text_and_expiry():
    assert ending_detail({"disposition": "closed", "reason": "other", "text": "lost sight"}) == \
        "closed: other (lost sight)"
    assert ending_detail({"disposition": "expired", "number": "S-0007"}) == "S-0007 expired, nobody sent"


def test_outcome_counts_cover_the_window_only_and_every_row():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0)], bounds=(T0, T0 + 100_000),
        endings=[ending("sight-0001", "closed", T0 + 10_000, reason="duplicate"),
                 ending("sight-0002", "expired", T0 + 20_000, actor="system"),
                 ending("sight-0003", "dispatched", T0 + 30_000),
                 ending("sight-0004", "merged", T0 + 200_000, merged_into="sight-0003")])
    counts = history.outcome_counts()
    assert list(counts) == list(OUTCOME_ORDER)
    assert {k: v for k, v in counts.items() if v} == {"closed:duplicate": 1, "expired": 1, "dispatched": 1}


def test_the_picture_names_sightings_by_their_number_from_endings_or_given_numbers():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0), sighting("sight-0002", ts=T0), sighting("sight-0003", ts=T0)],
        endings=[ending("sight-0001", "closed", T0 + 60_000, reason="referred", number="S-0011")],
        numbers={"sight-0002": "S-0012"}, bounds=(T0, T0 + 100_000))
    seen = {s["sighting_id"]: s for s in history.picture_at(T0 + 1000)["sightings"]}
    assert seen["sight-0001"]["number"] == "S-0011" and seen["sight-0002"]["number"] == "S-0012"
    assert "number" not in seen["sight-0003"], "no number invented for a sighting that had none"
    assert frame_payload(history.picture_at(T0 + 1000))["sightings"]["number"] == ["S-0011", "S-0012", None]


def test_the_outcomes_figure_shows_every_outcome_with_its_count():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0)], bounds=(T0, T0 + 100_000),
        endings=[ending("sight-0001", "closed", T0 + 10_000, reason="false_alarm"),
                 ending("sight-0002", "closed", T0 + 11_000, reason="false_alarm"),
                 ending("sight-0003", "merged", T0 + 12_000, merged_into="sight-0004"),
                 ending("sight-0005", "expired", T0 + 13_000, actor="system"),
                 ending("sight-0006", "ended_by_operator", T0 + 14_000, actor="OP-3", reason="left")])
    frame = outcomes(history)
    assert list(frame.columns) == ["outcome", "label", "count"] and frame["outcome"].tolist() == list(OUTCOME_ORDER)
    assert dict(zip(frame["label"], frame["count"])) == {
        "dispatched (a patrol cleared it)": 0, "closed: false alarm": 2, "closed: duplicate of another sighting": 0,
        "closed: watched by the drone only": 0, "closed: referred to another service": 0, "closed: other": 0,
        "merged into another sighting": 1, "ended by the operator who reported it": 1, "expired, nobody sent": 1}
    figure = figures.outcomes_figure(frame)
    (bar,) = figure.data
    shown = dict(zip(bar.y, bar.text))
    assert shown["closed: false alarm"] == "2" and shown["expired, nobody sent"] == "1" and len(shown) == 9
    assert shown["ended by the operator who reported it"] == "1"
    assert "5 ended" in figure.layout.title.text


def test_the_outcomes_figure_says_when_nothing_ended():
    history = History.from_messages([sighting("sight-0001", ts=T0)], bounds=(T0, T0 + 1000))
    figure = figures.outcomes_figure(outcomes(history))
    assert figure.layout.annotations[0].text == "No sighting ended in this window"


def test_tagged_events_and_exports_name_sightings_by_number_and_outcome():
    history = History.from_messages(
        [sighting("sight-0001", ts=T0), sighting("sight-0002", ts=T0 + 1000)], bounds=(T0, T0 + 100_000),
        endings=[ending("sight-0001", "closed", T0 + 40_000, reason="drone_only", number="S-0021")],
        numbers={"sight-0002": "S-0022"})
    created = history.events().query("event == 'created'")["detail"].tolist()
    assert created == ["S-0021 deal priority 2", "S-0022 deal priority 2"]
    points = {f["properties"]["id"]: f["properties"] for f in export_geojson(history)["features"]
              if f["properties"]["kind"] == "sighting"}
    assert points["sight-0001"]["closed_ms"] == T0 + 40_000, "closed at its ending, not left open"
    assert (points["sight-0001"]["number"], points["sight-0001"]["outcome"]) == ("S-0021", "closed:drone_only")
    assert points["sight-0002"]["number"] == "S-0022" and "outcome" not in points["sight-0002"]
    assert points["sight-0002"]["closed_ms"] is None
