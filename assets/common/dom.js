/* DOM helpers every page uses. Text goes in through textContent only: a unit's call sign or an
 * operator's note is never parsed as HTML (tests/browser/test_xss.py). */

/** A new element with an optional class and text. */
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = String(text);
  return element;
}

/** Appends the children that are not null or undefined; returns the parent. */
export function append(parent, ...children) {
  for (const child of children) if (child) parent.appendChild(child);
  return parent;
}

/** A lookup of a page's Dash components by the names its configuration gives them
 * (config.ids: name -> component id, from the page's ids.py): byId("queue"). */
export function idLookup(ids) {
  return function byId(name) { return document.getElementById(ids[name]); };
}
