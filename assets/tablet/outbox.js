/*
 * Patrol tablet: the outbox.
 *
 * Every action the officer takes goes here first: appended to a list kept in localStorage (a reload,
 * a crash or a flat battery keeps it), then sent to POST /api/patrol/action one at a time, oldest
 * first, so the server applies them in the order they were taken. What each answer means, and the
 * backoff, are outbox_rules.js's.
 *
 * The list is per site and patrol (config.outbox_key): a tablet handed to another crew never sends the
 * previous crew's actions under the new session.
 */
import { page } from "./page.js";
import { isServerError, replyVerdict, retryDelay, RETRY_MIN_MS, storedActions } from "./outbox_rules.js";
import { say } from "./message.js";

const REQUEST_TIMEOUT_MS = 8000;

let key = null;
let items = [];
let sending = false;
let retryTimer = null;
let failures = 0;
const serverErrors = {}; // action_id -> 500s answered to it
// Set by init: what the page does with an answer, after any change, and when reachability may have changed.
let on = { answer: function () {}, change: function () {}, link: function () {} };

export const outbox = {
  reachable: null, // null: not asked yet; false: the last request got no usable answer
  sent: 0, // action requests made, resends included (a test hook, as is lastAnswer)
  lastAnswer: null,
  /** listeners: {answer(item, answer), change(), link()}. */
  init: function (config, listeners) {
    key = config.outbox_key;
    on = listeners;
    items = load();
    window.addEventListener("online", function () { failures = 0; flush(); });
    window.addEventListener("storage", function (event) { // another tab of the same patrol
      if (event.key === key) { items = load(); on.change(); }
    });
    flush();
  },
  /** The actions waiting, oldest first (a copy). */
  items: function () { return items.slice(); },
  push: function (item) {
    items.push(item);
    save();
    on.change();
    flush();
  },
  flush: flush,
  request: request
};

function load() {
  try {
    return storedActions(window.localStorage.getItem(key));
  } catch (error) {
    return []; // storage refused (private mode): the outbox lives in memory
  }
}

function save() {
  try {
    window.localStorage.setItem(key, JSON.stringify(items));
  } catch (error) {
    console.error("tablet outbox: cannot keep actions across a reload", error); // still sent from memory
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/* fetch with a timeout; resolves {status, body} (status 0: no answer), never rejects. */
function request(method, url, payload) {
  const controller = new AbortController();
  const timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
  const init = { method: method, credentials: "same-origin", cache: "no-store", signal: controller.signal,
                 headers: { "Accept": "application/json" } };
  if (payload !== null) {
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRFToken"] = csrfToken();
    init.body = JSON.stringify(payload);
  }
  return fetch(url, init).then(function (response) {
    return response.json().catch(function () { return null; }).then(function (body) {
      outbox.reachable = response.status < 500; // a 503 is the server saying it cannot act now: offline too
      return { status: response.status, body: body };
    });
  }, function () {
    outbox.reachable = false;
    return { status: 0, body: null };
  }).finally(function () {
    clearTimeout(timer);
    on.link();
  });
}

function flush() {
  if (sending || !items.length || !page.started) return;
  if (retryTimer !== null) { clearTimeout(retryTimer); retryTimer = null; }
  sending = true;
  const item = items[0];
  serverErrors[item.action_id] = serverErrors[item.action_id] || 0;
  outbox.sent += 1;
  request("POST", page.config.api.action, item).then(function (reply) {
    sending = false;
    if (isServerError(reply.status)) serverErrors[item.action_id] += 1;
    const verdict = replyVerdict(reply.status, serverErrors[item.action_id]);
    if (verdict === "answered") {
      failures = 0;
      drop(item.action_id);
      outbox.lastAnswer = reply.body;
      on.answer(item, reply.body || { ok: false, message: "Refused" });
      flush();
    } else if (verdict === "busy") {
      retry(RETRY_MIN_MS);
    } else if (verdict === "signed_out") {
      say(false, "Signed out: sign in again to send the waiting actions");
      on.change();
    } else if (verdict === "server_bug") {
      drop(item.action_id); // the server fails on this one action: it must not hold up those behind it
      say(false, "Not applied (server error): try again, or tell your supervisor by radio");
      flush();
    } else {
      failures += 1;
      retry(retryDelay(failures));
    }
  });
}

function retry(delay) {
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
  on.change();
}

function drop(actionId) {
  items = items.filter(function (item) { return item.action_id !== actionId; });
  save();
}
