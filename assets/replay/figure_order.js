/* Replay page: which figure to ask for next (figures.js). Pure (tests/js/replay/figure_order.test.js). */

/**
 * The first card, in page order, not drawn yet and in view; with `outOfViewToo`, the first not drawn
 * at all when none in view is left. null when there is none to ask for.
 */
export function pickFigure(cards, drawn, outOfViewToo) {
  const waiting = cards.filter(function (card) { return !drawn.has(card.name); });
  const inView = waiting.find(function (card) { return card.visible; });
  if (inView) return inView;
  return outOfViewToo && waiting.length ? waiting[0] : null;
}
