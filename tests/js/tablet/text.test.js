// assets/tablet/text.js under Node, against the cases dispatch/domain/tablet.py passes
// (tests/domain/tablet_texts.json, read by tests/domain/test_tablet.py too): the two cannot drift apart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { tabletTexts } from "../../../assets/tablet/text.js";

const CASES = JSON.parse(readFileSync(new URL("../../domain/tablet_texts.json", import.meta.url), "utf8"));
// What the page is sent (domain text_rules: test_tablet.py checks that they are the server's).
const RULES = CASES.rules;
const texts = tabletTexts(RULES);

test("every compass case of the shared table, sector edges and negative or multi-turn bearings included", () => {
  assert.ok(CASES.compass_points.length >= 20);
  for (const { bearing, text } of CASES.compass_points) assert.equal(texts.compassPoint(bearing), text, `${bearing}°`);
});

test("every distance case: tens of metres, then tenths of km, then km, halves rounding up", () => {
  assert.ok(CASES.distances.length >= 12);
  for (const { metres, text } of CASES.distances) assert.equal(texts.distanceWords(metres), text, `${metres} m`);
});

test("every target case, from the coordinates alone: distance, bearing and 'here' as the server computes them", () => {
  assert.ok(CASES.targets.some(({ text }) => text === "here"));
  for (const { from, to, metres, bearing, text } of CASES.targets) {
    assert.equal(texts.target(...from, ...to), text, `${metres} m at ${bearing}°`);
    assert.ok(Math.abs(texts.metres(...from, ...to) - metres) < 1e-6, `${metres} m`);
    const apart = Math.abs(((texts.bearing(...from, ...to) - bearing) % 360 + 540) % 360 - 180); // 359.99... is 0
    if (metres > 0) assert.ok(apart < 1e-6, `${bearing}°`);
  }
});

test("the words and the radius are the config's, not the module's", () => {
  const french = tabletTexts({ ...RULES, compass_points: ["nord", "est", "sud", "ouest"], here_m: 100 });
  assert.equal(french.compassPoint(44), "nord");
  assert.equal(french.compassPoint(46), "est");
  assert.equal(french.compassPoint(-46), "ouest");
  const [from, to] = [CASES.targets[2].from, CASES.targets[2].to]; // 90 m west
  assert.equal(texts.target(...from, ...to), "90 m west");
  assert.equal(french.target(...from, ...to), "here");
});

test("the same point is 0 m away, bearing north, and never NaN", () => {
  assert.equal(texts.metres(48.1, -1.6, 48.1, -1.6), 0);
  assert.equal(texts.bearing(48.1, -1.6, 48.1, -1.6), 0);
  assert.equal(texts.target(48.1, -1.6, 48.1, -1.6), "here");
});
