// assets/replay/event_words.js: the event list's words.
import { test } from "node:test";
import assert from "node:assert/strict";

import { describe, eventCount, shortId } from "../../../assets/replay/event_words.js";

test("generated ids are cut to 8 characters, readable ones kept, a missing one shown as ?", () => {
  assert.equal(shortId("3f2b9c1e-8d7a-4e55-9a0b-1c2d3e4f5a6b"), "3f2b9c1e");
  assert.equal(shortId("sight-0042"), "sight-0042");
  assert.equal(shortId("123456789012"), "123456789012", "12 characters are kept");
  assert.equal(shortId(""), "?");
  assert.equal(shortId(null), "?");
});

test("a sighting tagged, then ended with its recorded words", () => {
  assert.equal(describe("sighting", "created", { sighting_id: "sight-0042", detail: "deal P1" }),
    "Sighting: deal P1 · sight-0042");
  assert.equal(describe("sighting", "closed", { sighting_id: "sight-0042", detail: "2026-00042 closed: false alarm" }),
    "Sighting 2026-00042 closed: false alarm · sight-0042");
  assert.equal(describe("sighting", "expired", { sighting_id: "sight-0042" }), "Sighting expired · sight-0042");
});

test("an assignment's steps name the patrol, withdrawal in plain words", () => {
  assert.equal(describe("assignment", "created", { patrol_id: "BAC-12", sighting_id: "sight-0042" }),
    "BAC-12 sent to sighting sight-0042");
  assert.equal(describe("assignment", "en_route", { patrol_id: "BAC-12" }), "BAC-12 en route");
  assert.equal(describe("assignment", "cancelled", { patrol_id: "BAC-12", detail: "nearer patrol" }),
    "BAC-12 withdrawn: nearer patrol");
  assert.equal(describe("assignment", "reopened", { patrol_id: "BAC-12" }), "BAC-12 reopened", "an unknown step as sent");
});

test("alerts: raised with their text, then acknowledged or resolved", () => {
  assert.equal(describe("alert", "raised", { detail: "DR-7 link lost" }), "DR-7 link lost");
  assert.equal(describe("alert", "raised", {}), "alert raised");
  assert.equal(describe("alert", "resolved", { id: "al-1", detail: "DR-7 link lost" }), "Alert resolved: DR-7 link lost");
  assert.equal(describe("alert", "acknowledged", { id: "al-1" }), "Alert acknowledged: al-1");
});

test("the count reads in the singular for one", () => {
  assert.equal(eventCount(0), "0 events");
  assert.equal(eventCount(1), "1 event");
  assert.equal(eventCount(1234), "1234 events");
});
