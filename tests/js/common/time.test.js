// assets/common/time.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { age, siteClock, siteDay, span } from "../../../assets/common/time.js";

test("ages read in seconds, then minutes, then hours and two-digit minutes", () => {
  assert.equal(age(0), "0 s ago");
  assert.equal(age(59_999), "59 s ago");
  assert.equal(age(60_000), "1 min ago");
  assert.equal(age(59 * 60_000 + 59_999), "59 min ago");
  assert.equal(age(3_600_000 + 5 * 60_000), "1 h 05 ago");
  assert.equal(age(10 * 3_600_000 + 42 * 60_000), "10 h 42 ago");
});

test("a negative or missing span (clock skew, no report yet) reads as 0 s, never as NaN", () => {
  assert.equal(span(-5_000), "0 s");
  assert.equal(span(undefined), "0 s");
  assert.equal(span(Number.NaN), "0 s");
});

test("the clock shows the site's time whatever the machine's zone", () => {
  const winter = Date.UTC(2026, 11, 3, 13, 5, 9); // 14:05:09 in Paris (UTC+1)
  assert.equal(siteClock("Europe/Paris")(winter), "14:05:09");
  assert.equal(siteClock("UTC")(winter), "13:05:09");
  const summer = Date.UTC(2026, 6, 3, 13, 5, 9); // 15:05:09 in Paris (UTC+2)
  assert.equal(siteClock("Europe/Paris")(summer), "15:05:09");
});

test("no time gives dashes, and an unknown zone falls back to the device's instead of failing", () => {
  assert.equal(siteClock("Europe/Paris")(null), "--:--:--");
  assert.equal(siteClock("Europe/Paris")(Number.POSITIVE_INFINITY), "--:--:--");
  assert.match(siteClock("Nowhere/Atlantis")(0), /^\d\d:\d\d:\d\d$/);
});

test("the day names weekday, day, month and year on the site's calendar", () => {
  const lateEvening = Date.UTC(2026, 11, 3, 23, 30); // already 4 Dec in Paris
  assert.equal(siteDay("Europe/Paris")(lateEvening), "Fri, 4 Dec 2026");
  assert.equal(siteDay("UTC")(lateEvening), "Thu, 3 Dec 2026");
});
