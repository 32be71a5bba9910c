/*
 * Replay page: the shift figures, asked for one at a time (issue 15). Building all six at once cost a
 * main-thread task of several hundred ms when Dash drew them together, and seconds of server time
 * before the first one showed. Once a window is ready (the "ready" store, loading.js), the page asks
 * for the figures whose card is in view (or near it) first, then, when the browser is idle, for the
 * others, each after the previous one came back: every answer draws one chart, in its own task.
 *
 * Asking is writing the window into the figure's own store (layout.py, ids.FIGURE_WANTED); the
 * server's callback answers the chart and FIGURE_DONE, which brings us back here (onFigureDone).
 */
import { pickFigure } from "./figure_order.js";

const NEAR_VIEW = "400px 0px"; // a card this close to the view counts as in it: drawn before it is reached
const IDLE_WAIT_MS = 1500; // the figures out of view come when the browser is idle, or after this at most

let cards = []; // {name, graph, wanted, visible}
let wanted = null; // the window whose figures are asked for ({from_ms, to_ms}), null while none is ready
let drawn = new Set();
let asked = null; // {name, nonce} of the figure asked for and not yet answered
let nonce = 0;
let idle = false;
let blank = null; // the chart shown while no window is ready (layout.page_config figure_blank)

/** Watches the figures' cards (config.figures from layout.page_config: name, graph id, store id). */
export function initFigures(config) {
  cards = (config.figures || []).map(function (f) {
    return { name: f.name, graph: f.graph, wanted: f.wanted, visible: false };
  });
  if (typeof IntersectionObserver !== "function") {
    cards.forEach(function (card) { card.visible = true; });
    return;
  }
  const observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      const card = cards.find(function (c) { return c.element === entry.target; });
      if (card) card.visible = entry.isIntersecting;
    });
    askNext();
  }, { rootMargin: NEAR_VIEW });
  cards.forEach(function (card) {
    const graph = document.getElementById(card.graph);
    card.element = graph ? graph.closest(".rp-figure") || graph : null;
    if (card.element) observer.observe(card.element);
  });
}

/** The "ready" store changed: a window's figures to ask for, or none while another one loads (its charts
 * blanked here: the previous window's must not stand for the next one). */
export function onReadyFigures(ready, blankFigure) {
  blank = blankFigure || blank;
  drawn = new Set();
  asked = null;
  wanted = ready && ready.from_ms != null ? { from_ms: ready.from_ms, to_ms: ready.to_ms } : null;
  if (!wanted) cards.forEach(function (card) { unsee(card.name); });
  askNext();
}

/** Blanks a chart, and asks for it again if the window it belongs to is ready. */
function unsee(name) {
  const card = cards.find(function (c) { return c.name === name; });
  if (card && blank) window.dash_clientside.set_props(card.graph, { figure: blank });
  if (drawn.delete(name)) askNext();
}

function sameWindow(a, b) {
  return !!b && a.from_ms === b.from_ms && a.to_ms === b.to_ms;
}

/** The server answered a figure (FIGURE_DONE): the next one may be asked for once this one is drawn. */
export function onFigureDone(done) {
  if (!done) return;
  if (done.ok && !sameWindow(done, wanted)) {
    unsee(done.name); // a chart of an older window, drawn after Load was pressed again: not this window's
    return;
  }
  if (!asked || done.nonce !== asked.nonce) return;
  drawn.add(done.name); // drawn, or refused (the window gone): not asked again for this window
  asked = null;
  setTimeout(askNext, 0); // after the task that draws this one
}

/** For tests and benchmarks: the figures drawn for the current window and the one asked for. */
export function figureState() {
  return { drawn: Array.from(drawn), asked: asked && asked.name, window: wanted };
}

function askNext() {
  if (!wanted || asked) return;
  const next = pickFigure(cards, drawn, false);
  if (next) {
    ask(next);
    return;
  }
  if (idle || !pickFigure(cards, drawn, true)) return;
  idle = true;
  whenIdle(function () {
    idle = false;
    if (!wanted || asked) return;
    const later = pickFigure(cards, drawn, true);
    if (later) ask(later);
  });
}

function ask(card) {
  nonce += 1;
  asked = { name: card.name, nonce: nonce };
  window.dash_clientside.set_props(card.wanted, { data: { from_ms: wanted.from_ms, to_ms: wanted.to_ms, nonce: nonce } });
}

function whenIdle(then) {
  if (typeof requestIdleCallback === "function") requestIdleCallback(then, { timeout: IDLE_WAIT_MS });
  else setTimeout(then, 200);
}
