/* A glyph from the legend's vocabulary (style.css): the queue, the panels, the board and the map's
 * markers draw units with it. */
import { el, append } from "../common/dom.js";

/** `classes` are built from known values only (words.js knownOr). */
export function glyph(classes, letter) {
  var wrap = el("span", "glyph-wrap");
  wrap.appendChild(append(el("span", "glyph " + classes), letter ? el("span", "pin-letter", letter) : null));
  return wrap;
}
