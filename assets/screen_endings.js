/*
 * Supervisor wall screen: the sightings that just left the queue, and how each ended (see
 * screen_core.js for the file map).
 *
 * A sighting leaves the queue when it ends: dispatched (its crew cleared it), closed with a
 * reason, merged into another, expired unassigned past its category's horizon, or ended by its
 * drone operator. Without a trace the supervisor would wonder where a row went, and an expiry
 * ("nobody sent") is exactly what they must notice. Under the queue, one line names the latest
 * ending with its age; a click (or the count) opens the last few. The words are the replay's
 * (config.endings.outcome_words, from dispatch/domain/replay/metrics.py), so the wall screen,
 * the replay and the shift figures say the same thing. Kept for this page's life only: the full
 * record is the replay's event list.
 */
(function () {
  "use strict";

  var S = (window.dispatchScreen = window.dispatchScreen || {});
  var KEEP = 30; // endings kept on the line's list

  var box = null;
  var latest = null;
  var list = null;
  var toggle = null;
  var endings = []; // newest first: {label, words, at}

  S.endings = {
    init: function (config) {
      box = S.byId("ended");
      if (!box) return;
      toggle = S.el("button", "ended-toggle", "");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.title = "The sightings that just ended, and how";
      latest = S.el("span", "ended-latest", "");
      list = S.el("ol", "ended-list");
      list.hidden = true;
      toggle.addEventListener("click", function () { show(list.hidden); });
      S.append(box, toggle, latest, list);
      box.hidden = true;
      S.onChange(function (changes) {
        var ended = changes.sightings && changes.sightings.ended;
        if (ended && ended.length) record(ended, S.now(), config.endings.outcome_words || {});
      });
      S.onTick(function (now) { render(now); });
    },
    /* [{label, words}] newest first: what the line shows (browser tests). */
    list: function () { return endings.map(function (e) { return { label: e.label, words: e.words }; }); }
  };

  /* How one ending reads: "expired, nobody sent", "closed: false alarm", "merged into S-0139". */
  function wordsOf(sighting, words) {
    var disposition = typeof sighting.disposition === "string" ? sighting.disposition : "";
    if (disposition === "closed" && typeof sighting.reason === "string" && words["closed:" + sighting.reason]) {
      return words["closed:" + sighting.reason];
    }
    if (disposition === "merged" && typeof sighting.merged_into === "string" && sighting.merged_into) {
      var target = S.model.units.sightings.get(sighting.merged_into);
      return "merged into " + labelOf(target || { sighting_id: sighting.merged_into });
    }
    var operatorReasons = S.config.endings.operator_reasons || {};
    if (disposition === "ended_by_operator" && typeof sighting.reason === "string" &&
        Object.prototype.hasOwnProperty.call(operatorReasons, sighting.reason)) {
      return "ended by the operator: " + operatorReasons[sighting.reason];
    }
    if (Object.prototype.hasOwnProperty.call(words, disposition)) return words[disposition];
    return disposition === "closed" ? "closed without dispatch" : "ended";
  }

  function labelOf(sighting) {
    return typeof sighting.number === "string" && sighting.number ? sighting.number
      : String(sighting.sighting_id || "").slice(0, 8);
  }

  function record(ended, now, words) {
    ended.forEach(function (sighting) {
      endings.unshift({ label: labelOf(sighting), category: String(sighting.category || ""),
                        words: wordsOf(sighting, words), at: now });
    });
    endings.length = Math.min(endings.length, KEEP);
    render(now);
  }

  function show(open) {
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    render(S.now());
  }

  function line(ending, now) {
    var item = S.el("li", "ended-item");
    S.append(item, S.el("span", "q-number", ending.label),
             ending.category ? S.el("span", "ended-category", ending.category) : null,
             S.el("span", "ended-words", ending.words), S.el("span", "ended-age", S.age(now - ending.at)));
    return item;
  }

  function render(now) {
    if (!box || !endings.length) return;
    box.hidden = false;
    toggle.textContent = (list.hidden ? "▸ " : "▾ ") + "Ended " + endings.length;
    latest.replaceChildren(list.hidden ? line(endings[0], now) : "");
    if (!list.hidden) list.replaceChildren.apply(list, endings.map(function (e) { return line(e, now); }));
  }
})();
