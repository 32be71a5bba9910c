// assets/tablet/outbox_rules.js: what each answer means for the action at the head of the outbox.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  MAX_SERVER_ERRORS, RETRY_MAX_MS, RETRY_MIN_MS, isServerError, replyVerdict, retryDelay, storedActions
} from "../../../assets/tablet/outbox_rules.js";

test("applied, refused by a rule, or malformed: answered, the action leaves the outbox", () => {
  for (const status of [200, 400, 422]) assert.equal(replyVerdict(status, 0), "answered", String(status));
});

test("another copy being applied: busy; signed out or wrong role: kept for after signing in", () => {
  assert.equal(replyVerdict(409, 0), "busy");
  assert.equal(replyVerdict(401, 0), "signed_out");
  assert.equal(replyVerdict(403, 0), "signed_out");
});

test("no answer, a 503, a 404 or a gateway error: the server is unreachable, the action stays", () => {
  for (const status of [0, 503, 404, 502]) assert.equal(replyVerdict(status, 0), "unreachable", String(status));
  assert.equal(replyVerdict(503, 99), "unreachable", "a 503 never counts against the action");
});

test("a 500 is retried until the same action has had MAX_SERVER_ERRORS of them, then dropped", () => {
  assert.equal(MAX_SERVER_ERRORS, 5);
  for (let n = 1; n < MAX_SERVER_ERRORS; n++) assert.equal(replyVerdict(500, n), "unreachable", `500 #${n}`);
  assert.equal(replyVerdict(500, MAX_SERVER_ERRORS), "server_bug");
  assert.equal(replyVerdict(502, MAX_SERVER_ERRORS), "server_bug");
  assert.ok(isServerError(500) && isServerError(504) && !isServerError(503) && !isServerError(422) && !isServerError(0));
});

test("retries back off from 1 s, doubling, to at most 10 s", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map(retryDelay), [1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  assert.equal(retryDelay(0), RETRY_MIN_MS);
  assert.equal(retryDelay(1), RETRY_MIN_MS);
  assert.equal(retryDelay(1000), RETRY_MAX_MS);
});

test("stored actions come back in their order; anything unreadable is left out, never thrown", () => {
  const kept = [{ action_id: "b", action: "en_route" }, { action_id: "a", action: "acknowledge" }];
  assert.deepEqual(storedActions(JSON.stringify(kept)), kept);
  assert.deepEqual(storedActions(JSON.stringify([null, kept[0], { action: "clear" }, 7, kept[1]])), kept);
  assert.deepEqual(storedActions(null), []);
  assert.deepEqual(storedActions("{not json"), []);
  assert.deepEqual(storedActions('{"action_id": "a"}'), []);
});
