// assets/replay/map_rules.js: how a unit looks at the frame's instant.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  droneLook, instantOrNull, patrolStatus, sightingDetail, sightingLook, storedAt, validPosition
} from "../../../assets/replay/map_rules.js";

const rules = { link_lost_ms: 10_000, low_battery_pct: 20 };

test("a drone's link is lost past the threshold, whatever its battery; exactly at it, not yet", () => {
  assert.deepEqual(droneLook(60_000, 50_000, 80, rules), { status: "ok", detail: "80% · 10 s" });
  assert.deepEqual(droneLook(60_001, 50_000, 5, rules), { status: "lost", detail: "LINK LOST · 10 s" });
});

test("a low battery is below the threshold, rounded for reading", () => {
  assert.deepEqual(droneLook(1000, 1000, 19.6, rules), { status: "low_battery", detail: "LOW 20% · 0 s" });
  assert.deepEqual(droneLook(1000, 1000, 20, rules), { status: "ok", detail: "20% · 0 s" });
  assert.deepEqual(droneLook(1000, 1000, "12", rules), { status: "low_battery", detail: "LOW 12% · 0 s" });
});

test("a report stamped after the instant (clock skew) reads 0 s, never a negative age", () => {
  assert.equal(droneLook(1000, 3000, 80, rules).detail, "80% · 0 s");
});

test("an unknown patrol status is drawn as unavailable", () => {
  assert.equal(patrolStatus("en_route"), "en_route");
  assert.equal(patrolStatus("on_break"), "unavailable");
  assert.equal(patrolStatus("constructor"), "unavailable", "not Object.prototype's");
  assert.equal(patrolStatus(undefined), "unavailable");
});

test("a sighting's priority is 1, 2 or 3 and its category one the page has a letter for", () => {
  const letters = { deal: "D", other: "?" };
  assert.deepEqual(sightingLook(1, "deal", letters), { priority: 1, category: "deal" });
  assert.deepEqual(sightingLook(2, "burglary", letters), { priority: 2, category: "other" });
  assert.deepEqual(sightingLook(0, "deal", letters), { priority: 3, category: "deal" });
  assert.deepEqual(sightingLook("1", "hasOwnProperty", letters), { priority: 3, category: "other" });
});

test("a sighting's label: incident number, category, the patrol sent", () => {
  assert.equal(sightingDetail("2026-00042", "deal", "BAC-12"), "2026-00042 deal → BAC-12");
  assert.equal(sightingDetail(null, "deal", undefined), "deal");
  assert.equal(sightingDetail("", "other", "BAC-3"), "other → BAC-3");
});

test("positions Leaflet cannot place are skipped", () => {
  assert.equal(validPosition(48.1, -1.68), true);
  assert.equal(validPosition(null, -1.68), false);
  assert.equal(validPosition("48.1", -1.68), false);
  assert.equal(validPosition(Number.NaN, -1.68), false);
  assert.equal(validPosition(48.1, Infinity), false);
});

test("a zone version is on the map from its storing (included) until the next one (excluded)", () => {
  const version = { storedFrom: 1000, storedUntil: 2000 };
  assert.equal(storedAt(version, 999), false);
  assert.equal(storedAt(version, 1000), true);
  assert.equal(storedAt(version, 1999), true);
  assert.equal(storedAt(version, 2000), false, "the edit's instant shows the new version only");
  assert.equal(storedAt({ storedFrom: null, storedUntil: null }, -1e15), true, "unbounded both ways");
  assert.equal(storedAt({ storedFrom: null, storedUntil: 2000 }, 0), true);
  assert.equal(instantOrNull(1000), 1000);
  assert.equal(instantOrNull(null), null);
  assert.equal(instantOrNull("1000"), null);
  assert.equal(instantOrNull(Number.NaN), null);
});
