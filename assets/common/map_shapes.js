/* Patrol status shapes on a Leaflet canvas, shared by the wall screen and the replay map.
 * Above a few hundred patrols both draw on one canvas instead of DOM markers; this
 * marker keeps status readable by shape (never colour alone) there too. */

export function traceShape(ctx, shape, x, y, r) {
  var k;
  if (shape === "diamond") {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.2, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r * 1.2, y);
  } else if (shape === "hexagon") {
    for (k = 0; k < 6; k++) ctx[k ? "lineTo" : "moveTo"](x + r * Math.cos(k * Math.PI / 3), y + r * Math.sin(k * Math.PI / 3));
  } else if (shape === "square") {
    ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
  } else if (shape === "cross") {
    var a = r * 0.35;
    [[-a, -r], [a, -r], [a, -a], [r, -a], [r, a], [a, a], [a, r], [-a, r], [-a, a], [-r, a], [-r, -a], [-a, -a]]
      .forEach(function (p, i) { ctx[i ? "lineTo" : "moveTo"](x + p[0], y + p[1]); });
  } else {
    ctx.arc(x, y, r, 0, Math.PI * 2, false);
  }
  ctx.closePath();
}

/* A canvas marker drawn as the patrol's status shape (options.shape) instead of a circle.
   Built on first use: Leaflet (window.L, from dash-leaflet's bundle) is not there when Node imports
   this module to test traceShape. */
let ShapeMarkerClass = null;
export function shapeMarker(latlng, options) {
  ShapeMarkerClass = ShapeMarkerClass || L.CircleMarker.extend({
    _updatePath: function () {
      var renderer = this._renderer;
      if (!renderer._drawing || this._empty()) return;
      var ctx = renderer._ctx;
      ctx.beginPath();
      traceShape(ctx, this.options.shape, this._point.x, this._point.y, this._radius);
      renderer._fillStroke(ctx, this);
    }
  });
  return new ShapeMarkerClass(latlng, options);
}
