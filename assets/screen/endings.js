/*
 * Supervisor wall screen: the sightings that just left the queue, and how each ended (see
 * main.js for the file map).
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
import { el, append } from "../common/dom.js";
import { age as timeAgo } from "../common/time.js";
import { S, byId, gatewayNow } from "./state.js";
import { onPictureChange, onSecond, sightingLabelOf } from "./model.js";
import { endingWords, sightingLabel } from "./words.js";

var KEEP = 30; // endings kept on the line's list

var box = null;
var latest = null;
var list = null;
var toggle = null;
var recent = []; // newest first: {label, words, at}

export const endings = {
  init: function (config) {
    box = byId("ended");
    if (!box) return;
    toggle = el("button", "ended-toggle", "");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    toggle.title = "The sightings that just ended, and how";
    latest = el("span", "ended-latest", "");
    list = el("ol", "ended-list");
    list.hidden = true;
    toggle.addEventListener("click", function () { show(list.hidden); });
    append(box, toggle, latest, list);
    box.hidden = true;
    onPictureChange(function (changes) {
      var ended = changes.sightings && changes.sightings.ended;
      if (ended && ended.length) record(ended, gatewayNow());
    });
    onSecond(function (now) { render(now); });
  },
  /* [{label, words}] newest first: what the line shows (browser tests). */
  list: function () { return recent.map(function (e) { return { label: e.label, words: e.words }; }); }
};

/** How one ending reads, for this line and the detail panel's message alike (words.js endingWords). */
export function endingText(sighting) {
  return endingWords(sighting, S.config.endings, sightingLabelOf);
}

function record(ended, now) {
  ended.forEach(function (sighting) {
    recent.unshift({ label: sightingLabel(sighting), category: String(sighting.category || ""),
                      words: endingText(sighting), at: now });
  });
  recent.length = Math.min(recent.length, KEEP);
  render(now);
}

function show(open) {
  list.hidden = !open;
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  render(gatewayNow());
}

function line(ending, now) {
  var item = el("li", "ended-item");
  append(item, el("span", "q-number", ending.label),
           ending.category ? el("span", "ended-category", ending.category) : null,
           el("span", "ended-words", ending.words), el("span", "ended-age", timeAgo(now - ending.at)));
  return item;
}

function render(now) {
  if (!box || !recent.length) return;
  box.hidden = false;
  toggle.textContent = (list.hidden ? "▸ " : "▾ ") + "Ended " + recent.length;
  latest.replaceChildren(list.hidden ? line(recent[0], now) : "");
  if (!list.hidden) list.replaceChildren.apply(list, recent.map(function (e) { return line(e, now); }));
}
