/*
 * Patrol tablet: the outbox (see tablet_core.js for the file map).
 *
 * Every action the officer takes goes here first: appended to a list kept in localStorage (a reload,
 * a crash or a flat battery keeps it), then sent to POST /api/patrol/action one at a time, oldest
 * first, so the server applies them in the order they were taken. Each carries the id the tablet gave
 * it; the server applies an id once and answers any later copy with the recorded answer, so sending
 * again after a lost reply is always safe. What the HTTP status means (dispatch/web/patrol_api.py):
 *
 *   200 applied / 422 refused by a rule / 400 malformed -> answered: drop it, show the message
 *   409 another copy is being applied                  -> keep it, ask again in a second
 *   401 / 403 signed out or wrong role                 -> keep it (sent after signing in again)
 *   500 five times for the same action                 -> a server bug on that action: drop it, say so,
 *                                                         so that it does not hold up the actions behind it
 *   anything else, or no answer at all                 -> keep it, the server is unreachable: retry with
 *                                                         backoff, and at once when the link comes back
 *
 * The list is per site and patrol (config.outbox_key): a tablet handed to another crew never sends the
 * previous crew's actions under the new session.
 */
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});
  var REQUEST_TIMEOUT_MS = 8000;
  var RETRY_MIN_MS = 1000;
  var RETRY_MAX_MS = 10000;
  var ANSWERED = { 200: true, 400: true, 422: true };
  var MAX_SERVER_ERRORS = 5; // a 500 (not a 503) this often for one action: a bug on that action, not the link

  var key = null;
  var items = [];
  var sending = false;
  var retryTimer = null;
  var failures = 0;
  var serverErrors = {}; // action_id -> 500s answered to it

  var O = {
    reachable: null, // null: not asked yet; false: the last request got no usable answer
    sent: 0, // action requests made, resends included (a test hook, as is lastAnswer)
    lastAnswer: null,
    init: function (config) {
      key = config.outbox_key;
      items = load();
      window.addEventListener("online", function () { failures = 0; O.flush(); });
      window.addEventListener("storage", function (event) { // another tab of the same patrol
        if (event.key === key) { items = load(); T.render(); }
      });
      O.flush();
    },
    items: function () { return items.slice(); },
    push: function (item) {
      items.push(item);
      save();
      T.render();
      O.flush();
    },
    flush: flush,
    request: request
  };
  T.outbox = O;

  function load() {
    try {
      var stored = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(stored) ? stored.filter(function (item) { return item && item.action_id; }) : [];
    } catch (error) {
      return [];
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
    var match = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* fetch with a timeout; resolves {status, body} (status 0: no answer), never rejects. */
  function request(method, url, payload) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var init = { method: method, credentials: "same-origin", cache: "no-store", signal: controller.signal,
                 headers: { "Accept": "application/json" } };
    if (payload !== null) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrfToken();
      init.body = JSON.stringify(payload);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        O.reachable = response.status < 500; // a 503 is the server saying it cannot act now: offline too
        return { status: response.status, body: body };
      });
    }, function () {
      O.reachable = false;
      return { status: 0, body: null };
    }).finally(function () {
      clearTimeout(timer);
      T.renderLink();
    });
  }

  function flush() {
    if (sending || !items.length || !T.started) return;
    if (retryTimer !== null) { clearTimeout(retryTimer); retryTimer = null; }
    sending = true;
    var item = items[0];
    serverErrors[item.action_id] = serverErrors[item.action_id] || 0;
    O.sent += 1;
    request("POST", T.config.api.action, item).then(function (reply) {
      sending = false;
      if (ANSWERED[reply.status]) {
        failures = 0;
        drop(item.action_id);
        O.lastAnswer = reply.body;
        T.onAnswer(item, reply.body || { ok: false, message: "Refused" });
        flush();
      } else if (reply.status === 409) {
        retry(RETRY_MIN_MS);
      } else if (reply.status === 401 || reply.status === 403) {
        T.say(false, "Signed out: sign in again to send the waiting actions");
        T.render();
      } else if (reply.status >= 500 && reply.status !== 503 && ++serverErrors[item.action_id] >= MAX_SERVER_ERRORS) {
        drop(item.action_id); // the server fails on this one action: it must not hold up those behind it
        T.say(false, "Not applied (server error): try again, or tell your supervisor by radio");
        flush();
      } else {
        failures += 1;
        retry(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * Math.pow(2, failures - 1)));
      }
    });
  }

  function retry(delay) {
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
    T.render();
  }

  function drop(actionId) {
    items = items.filter(function (item) { return item.action_id !== actionId; });
    save();
  }
})();
