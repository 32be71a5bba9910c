// assets/screen/words.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { endingWords, knownOr, sightingLabel } from "../../../assets/screen/words.js";

const RULES = {
  dispositions: { dispatched: "dispatched", closed: "closed", merged: "merged", expired: "expired, nobody sent",
                  ended_by_operator: "ended by the operator" },
  reasons: [["false_alarm", "false alarm"], ["other", "other"]],
  operator_reasons: { left: "left, situation over" }
};
const label = (id) => "label of " + id;

test("a sighting reads as its incident number, else the start of its id", () => {
  assert.equal(sightingLabel({ number: "S-0142", sighting_id: "0123456789abcdef" }), "S-0142");
  assert.equal(sightingLabel({ number: "", sighting_id: "0123456789abcdef" }), "01234567");
  assert.equal(sightingLabel({ number: 142, sighting_id: "0123456789abcdef" }), "01234567", "a number that is not text");
  assert.equal(sightingLabel({}), "");
  assert.equal(sightingLabel(undefined), "");
});

test("knownOr keeps only the table's own keys, never what every object inherits", () => {
  const allowed = { available: "Available" };
  assert.equal(knownOr("available", allowed, "unavailable"), "available");
  assert.equal(knownOr("constructor", allowed, "unavailable"), "unavailable");
  assert.equal(knownOr("__proto__", allowed, "unavailable"), "unavailable");
  assert.equal(knownOr(undefined, allowed, null), null);
});

test("an ending reads as its disposition, with the reason's label where there is one", () => {
  assert.equal(endingWords({ disposition: "expired" }, RULES, label), "expired, nobody sent");
  assert.equal(endingWords({ disposition: "closed", reason: "false_alarm" }, RULES, label), "closed: false alarm");
  assert.equal(endingWords({ disposition: "ended_by_operator", reason: "left" }, RULES, label),
               "ended by the operator: left, situation over");
});

test("an unknown reason or disposition still reads, without inventing words", () => {
  assert.equal(endingWords({ disposition: "closed", reason: "nonsense" }, RULES, label), "closed");
  assert.equal(endingWords({ disposition: "ended_by_operator", reason: "nonsense" }, RULES, label), "ended by the operator");
  assert.equal(endingWords({ disposition: "vanished" }, RULES, label), "vanished");
  assert.equal(endingWords({ disposition: "expired" }, undefined, label), "expired", "no rules sent: the raw word");
});

test("a sighting with no disposition (ended by a snapshot) reads as closed", () => {
  assert.equal(endingWords({}, RULES, label), "closed");
  assert.equal(endingWords(undefined, RULES, label), "closed");
});

test("a merge names the sighting it went into, by its label", () => {
  assert.equal(endingWords({ disposition: "merged", merged_into: "s-9" }, RULES, label), "merged into label of s-9");
  assert.equal(endingWords({ disposition: "merged", merged_into: "" }, RULES, label), "merged", "no target: no 'into'");
});
