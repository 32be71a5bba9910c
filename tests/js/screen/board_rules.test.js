// assets/screen/board_rules.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { compareBoardRows } from "../../../assets/screen/board_rules.js";

function row(id, { status = "available", inStatus = 0, report = 0, sighting = "" } = {}) {
  return { id, status, inStatus, report, sighting };
}

const ids = (rows, key, desc = false) => rows.slice().sort(compareBoardRows(key, desc)).map((r) => r.id);

test("call signs sort with their numbers read as numbers", () => {
  assert.deepEqual(ids([row("BAC-10"), row("BAC-9"), row("ALPHA-2"), row("BAC-100")], "callsign"),
                   ["ALPHA-2", "BAC-9", "BAC-10", "BAC-100"]);
});

test("by status in the legend's order, equal statuses by call sign; descending reverses both", () => {
  const rows = [row("P-2", { status: "unavailable" }), row("P-1", { status: "on_scene" }),
                row("P-3", { status: "available" }), row("P-0", { status: "on_scene" })];
  assert.deepEqual(ids(rows, "status"), ["P-3", "P-0", "P-1", "P-2"]);
  assert.deepEqual(ids(rows, "status", true), ["P-2", "P-1", "P-0", "P-3"]);
});

test("a patrol never heard from sorts after every report age, and two of them by call sign", () => {
  const rows = [row("P-3", { report: Infinity }), row("P-2", { report: 5_000 }), row("P-1", { report: Infinity }),
                row("P-4", { report: 0 })];
  assert.deepEqual(ids(rows, "report"), ["P-4", "P-2", "P-1", "P-3"]);
});

test("by time in status and by the sighting's number", () => {
  const rows = [row("P-1", { inStatus: 60_000, sighting: "S-0002" }), row("P-2", { inStatus: 1_000, sighting: "" }),
                row("P-3", { inStatus: 60_000, sighting: "S-0001" })];
  assert.deepEqual(ids(rows, "since"), ["P-2", "P-1", "P-3"]);
  assert.deepEqual(ids(rows, "sighting"), ["P-2", "P-3", "P-1"], "no sighting first");
});
