// assets/tablet/link.js: the link's state and the header's words for it.
import { test } from "node:test";
import assert from "node:assert/strict";

import { linkState, linkText } from "../../../assets/tablet/link.js";

const LINK = { live: true, waiting: 0, unreachable: false, socketDownFor: 0, offlineAfterMs: 3000 };

test("an API that does not answer is offline, even with the socket live", () => {
  assert.equal(linkState({ ...LINK, unreachable: true }), "offline");
  assert.equal(linkState({ ...LINK, live: false, unreachable: true, socketDownFor: 60_000 }), "offline");
});

test("live, or sending while actions wait", () => {
  assert.equal(linkState(LINK), "live");
  assert.equal(linkState({ ...LINK, waiting: 2 }), "sending");
});

test("a socket down for offlineAfterMs or more: the page polls; before that it is connecting", () => {
  assert.equal(linkState({ ...LINK, live: false, socketDownFor: 2999 }), "connecting");
  assert.equal(linkState({ ...LINK, live: false, socketDownFor: 3000 }), "polling");
});

test("the header's words, singular and plural", () => {
  assert.equal(linkText("live", 0, 3000), "Live");
  assert.equal(linkText("sending", 1, 3000), "Sending 1 action…");
  assert.equal(linkText("sending", 3, 3000), "Sending 3 actions…");
  assert.equal(linkText("offline", 0, 3000), "Offline");
  assert.equal(linkText("offline", 1, 3000), "Offline — 1 action waiting");
  assert.equal(linkText("polling", 2, 2500), "Live feed down, updating every 3 s — 2 actions waiting");
  assert.equal(linkText("connecting", 0, 3000), "Connecting…");
});
