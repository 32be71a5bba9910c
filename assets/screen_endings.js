/*
 * Supervisor wall screen: the sightings that just left the queue, and how each ended (see
 * screen_core.js for the file map).
 *
 * A sighting leaves the queue when it ends: dispatched (its crew cleared it), closed with a
 * reason, merged into another, expired unassigned past its category's horizon, or ended by its
 * drone operator. Without a trace the supervisor would wonder where a row went, and an expiry
 * ("nobody sent") is exactly what they must notice. Under the queue, one line names the latest
 * ending with its age; a click (or the count) opens the last few. The words are the domain's
 * (config.endings: sightings.DISPOSITION_WORDS and the reason labels), shared with the detail
 * panel's message when the selected sighting ends. Kept for this page's life only: the full
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
        if (ended && ended.length) record(ended, S.now());
      });
      S.onTick(function (now) { render(now); });
    },
    /* [{label, words}] newest first: what the line shows (browser tests). */
    list: function () { return endings.map(function (e) { return { label: e.label, words: e.words }; }); }
  };

  /* How one ending reads, for this line and the panel's message alike: "expired, nobody sent",
     "closed: false alarm", "ended by the operator: left, situation over", "merged into S-0139". */
  S.endingWords = function (sighting) {
    var rules = S.config.endings || {};
    var disposition = sighting && typeof sighting.disposition === "string" ? sighting.disposition : "";
    if (!disposition) return "closed";
    var words = (rules.dispositions || {})[disposition] || disposition;
    var reason = "";
    if (disposition === "ended_by_operator") {
      reason = (rules.operator_reasons || {})[sighting.reason] || "";
    } else if (disposition === "closed") {
      (rules.reasons || []).forEach(function (pair) { if (pair[0] === sighting.reason) reason = pair[1]; });
    } else if (disposition === "merged" && typeof sighting.merged_into === "string" && sighting.merged_into) {
      var target = S.model.units.sightings.get(sighting.merged_into);
      return words + " into " + labelOf(target || { sighting_id: sighting.merged_into });
    }
    return words + (reason ? ": " + reason : "");
  };

  function labelOf(sighting) {
    return typeof sighting.number === "string" && sighting.number ? sighting.number
      : String(sighting.sighting_id || "").slice(0, 8);
  }

  function record(ended, now) {
    ended.forEach(function (sighting) {
      endings.unshift({ label: labelOf(sighting), category: String(sighting.category || ""),
                        words: S.endingWords(sighting), at: now });
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
