/* The geometry of the label declutter pass (labels.js): rectangles in screen pixels, a uniform grid to
 * find overlaps fast, and the spots a label may take around its glyph. Pure (tests/js/screen/label_places.test.js). */

export const GAP = 3; // px between a glyph and its label
var CELL = 96; // px, grid cell of the spatial index

/** A uniform grid of rectangles {left, top, right, bottom, owner}. */
export function Grid() { this.cells = new Map(); }
Grid.prototype.each = function (r, visit) {
  for (var cx = Math.floor(r.left / CELL); cx <= Math.floor(r.right / CELL); cx++) {
    for (var cy = Math.floor(r.top / CELL); cy <= Math.floor(r.bottom / CELL); cy++) visit(cx + ":" + cy);
  }
};
Grid.prototype.add = function (r) {
  var cells = this.cells;
  this.each(r, function (key) {
    var list = cells.get(key);
    if (list) list.push(r); else cells.set(key, [r]);
  });
};
/* True when r overlaps a rectangle of the grid other than those owned by `owner` (undefined: any). */
Grid.prototype.hits = function (r, owner) {
  var cells = this.cells;
  var hit = false;
  this.each(r, function (key) {
    if (hit) return;
    var list = cells.get(key);
    if (!list) return;
    for (var i = 0; i < list.length; i++) {
      var o = list[i];
      if (o.owner !== owner && o.left < r.right && r.left < o.right && o.top < r.bottom && r.top < o.bottom) {
        hit = true;
        return;
      }
    }
  });
  return hit;
};

export function rect(left, top, width, height, owner) {
  return { left: left, top: top, right: left + width, bottom: top + height, owner: owner };
}

/* Spots for a w x h label around glyph box g, best first: beside, above/below, then the corners. */
export function candidates(g, w, h) {
  var cy = (g.top + g.bottom) / 2 - h / 2;
  var cx = (g.left + g.right) / 2 - w / 2;
  return [
    [g.right + GAP, cy], [g.left - GAP - w, cy], [cx, g.top - GAP - h], [cx, g.bottom + GAP],
    [g.right + GAP, g.top - h], [g.right + GAP, g.bottom], [g.left - GAP - w, g.top - h], [g.left - GAP - w, g.bottom]
  ];
}
