"""A History survives pickling (the web workers' shared replay cache stores it so, issue 14): the same
pictures after as before, and its column arrays are views of its frames again, not copies."""

from __future__ import annotations

import pickle

import numpy as np

from dispatch.domain.replay.history import History
from tests.domain.replay.test_history import T0, drone, lifecycle, patrol, sighting


def test_a_pickled_history_answers_the_same_with_views_of_its_frames():
    messages = [drone(ts=T0 + k * 1_000, lat=48.11 + k / 1000) for k in range(20)]
    messages += [drone("DR-2", ts=T0 + 5_000), patrol(ts=T0 + 2_000), patrol("BAC-2", ts=T0 + 9_000, lat=48.2),
                 sighting(ts=T0 + 3_000)]
    history = History.from_messages(messages, assignments=lifecycle("asg-1", T0 + 4_000),
                                    bounds=(T0, T0 + 30_000))
    copy = pickle.loads(pickle.dumps(history, protocol=pickle.HIGHEST_PROTOCOL))
    for t in range(T0 - 1_000, T0 + 30_000, 1_500):
        assert copy.picture_at(t) == history.picture_at(t)
    drones = copy._drones
    assert set(drones.columns) == set(history._drones.columns)
    for name, column in drones.columns.items():
        assert np.shares_memory(column, drones.frame[name].to_numpy()), name
    assert drones.timeline.ts is drones.columns["ts"]
    assert copy.events().equals(history.events())
