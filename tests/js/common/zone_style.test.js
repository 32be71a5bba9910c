// assets/common/zone_style.js under Node's built-in test runner.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ZONE_STYLE, zoneStatus } from "../../../assets/common/zone_style.js";

test("a zone is upcoming before its start, active from its start, expired from its end", () => {
  assert.equal(zoneStatus(100, 200, 99), "upcoming");
  assert.equal(zoneStatus(100, 200, 100), "active", "the start is included");
  assert.equal(zoneStatus(100, 200, 199), "active");
  assert.equal(zoneStatus(100, 200, 200), "expired", "the end is not");
});

test("a zone without bounds is never shown as authorised", () => {
  assert.equal(zoneStatus(undefined, undefined, 150), "expired");
  assert.equal(zoneStatus(null, undefined, 150), "expired");
});

test("only a valid zone is drawn solid: the others are dashed, whatever the status", () => {
  assert.equal(ZONE_STYLE.active.dashArray, null);
  assert.ok(ZONE_STYLE.upcoming.dashArray && ZONE_STYLE.expired.dashArray);
  assert.notEqual(ZONE_STYLE.upcoming.dashArray, ZONE_STYLE.expired.dashArray);
});
