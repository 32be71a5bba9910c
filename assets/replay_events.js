/*
 * Replay page: the event list beside the map (see replay_core.js for the file map).
 *
 * One row per event of the window (History.events(): sightings tagged and ended, each assignment step,
 * alerts raised, acknowledged, resolved), built once per window. As the instant moves, the
 * events up to it are marked as past, the latest one as current and scrolled into view; only
 * the rows between the old and the new current one are touched, so a shift's thousands of
 * events cost nothing per frame. Clicking a row jumps to its instant.
 */
(function () {
  "use strict";

  var R = (window.dispatchReplay = window.dispatchReplay || {});
  var KIND_WORDS = { sighting: "SIGHTING", assignment: "PATROL", alert: "ALERT" };
  var STEP_WORDS = { acknowledged: "acknowledged", en_route: "en route", on_scene: "on scene", cleared: "cleared",
                     cancelled: "withdrawn" };

  var box = null;
  var count = null;
  var rows = [];
  var stamps = new Float64Array(0);
  var current = -1;

  function short(id) { return typeof id === "string" && id.length > 12 ? id.slice(0, 8) : id || "?"; }

  /* What happened, in words: built from known values and ids, shown as text. */
  function describe(kind, event, e) {
    if (kind === "sighting" && event !== "created") {
      // An ending (dispatched, closed with its reason, merged, ended by the operator, expired): its number leads the detail when recorded.
      return "Sighting " + (e.detail || event) + " · " + short(e.sighting_id);
    }
    if (kind === "sighting") return "Sighting: " + (e.detail || "") + " · " + short(e.sighting_id);
    if (kind === "assignment") {
      if (event === "created") return e.patrol_id + " sent to sighting " + short(e.sighting_id);
      var word = STEP_WORDS[event] || event;
      return e.patrol_id + " " + word + (e.detail ? ": " + e.detail : "");
    }
    if (event === "raised") return e.detail || "alert raised";
    return "Alert " + (event === "resolved" ? "resolved" : event) + ": " + (e.detail || e.id);
  }

  var events = {
    init: function () {
      box = R.byId("events");
      count = R.byId("events_count");
      box.addEventListener("click", function (event) {
        var row = event.target.closest("[data-index]");
        if (!row) return;
        if (R.pause) R.pause();
        R.setInstant(stamps[Number(row.dataset.index)], "event");
      });
    },

    clear: function () {
      rows = [];
      stamps = new Float64Array(0);
      current = -1;
      box.replaceChildren(R.el("div", "rp-empty", "Loading…"));
      count.textContent = "";
    },

    set: function (columns) {
      var n = columns.ts.length;
      stamps = Float64Array.from(columns.ts);
      rows = new Array(n);
      current = -1;
      var fragment = document.createDocumentFragment();
      for (var i = 0; i < n; i++) {
        var kind = columns.kind[i];
        var event = columns.event[i];
        var fields = { id: columns.id[i], sighting_id: columns.sighting_id[i], patrol_id: columns.patrol_id[i],
                       detail: columns.detail[i] };
        var row = R.el("div", "rp-ev is-" + kind + " ev-" + event);
        row.dataset.index = String(i);
        row.dataset.ts = String(columns.ts[i]);
        row.dataset.kind = kind;
        row.dataset.event = event;
        row.dataset.id = fields.id || "";
        row.setAttribute("role", "listitem");
        row.append(R.el("span", "rp-ev-time", R.clock(columns.ts[i])),
                   R.el("span", "rp-ev-kind", KIND_WORDS[kind] || kind),
                   R.el("span", "rp-ev-what", describe(kind, event, fields)),
                   R.el("span", "rp-ev-actor", columns.actor[i] || ""));
        rows[i] = row;
        fragment.appendChild(row);
      }
      box.replaceChildren(n ? fragment : R.el("div", "rp-empty", "Nothing happened in this window."));
      count.textContent = n + " event" + (n === 1 ? "" : "s");
    },

    /* Index of the last event at or before t, -1 if none. */
    indexAt: function (t) {
      var low = 0, high = stamps.length;
      while (low < high) {
        var mid = (low + high) >> 1;
        if (stamps[mid] <= t) low = mid + 1; else high = mid;
      }
      return low - 1;
    },

    highlight: function (t) {
      var next = events.indexAt(t);
      if (next === current) return;
      var i;
      if (next > current) for (i = Math.max(0, current); i <= next; i++) rows[i].classList.add("is-past");
      else for (i = next + 1; i <= current; i++) rows[i].classList.remove("is-past");
      if (current >= 0 && rows[current]) rows[current].classList.remove("is-current");
      current = next;
      if (current >= 0) {
        rows[current].classList.add("is-current");
        rows[current].scrollIntoView({ block: "nearest" });
      } else if (rows.length) {
        box.scrollTop = 0;
      }
    },

    nextAfter: function (t) {
      var i = events.indexAt(t) + 1;
      return i < stamps.length ? stamps[i] : null;
    },

    prevBefore: function (t) {
      var low = 0, high = stamps.length; // first index with ts >= t; the one before it is strictly earlier
      while (low < high) {
        var mid = (low + high) >> 1;
        if (stamps[mid] < t) low = mid + 1; else high = mid;
      }
      return low > 0 ? stamps[low - 1] : null;
    },

    get current() { return current; }
  };
  R.events = events;
})();
