/*
 * Focus after a confirmation box closes: back to the list's first enabled row button, so a keyboard user
 * goes on from the list instead of from the top of the page. Dash renders pages after the modules run,
 * so the box is looked for as the document changes.
 */

/** The first enabled row button (grid_buttons.js draws them with data-action) inside `list`, or null. */
export function firstButton(list) {
  if (!list) return null;
  for (const button of list.querySelectorAll("button[data-action]")) if (!button.disabled) return button;
  return null;
}

/** Watches the element with id `box`: when it gains `hiddenClass` while holding the focus, the focus
 * goes to the first enabled button of the element with id `list`. */
export function returnFocusWhenHidden({ box, hiddenClass, list }) {
  let observed = null;
  const finder = new MutationObserver(function () {
    const found = document.getElementById(box);
    if (!found || found === observed) return;
    observed = found;
    let wasHidden = found.classList.contains(hiddenClass);
    new MutationObserver(function () {
      const hidden = found.classList.contains(hiddenClass);
      if (hidden === wasHidden) return;
      wasHidden = hidden;
      if (hidden && (found.contains(document.activeElement) || document.activeElement === document.body)) {
        const first = firstButton(document.getElementById(list));
        if (first) first.focus();
      }
    }).observe(found, { attributes: true, attributeFilter: ["class"] });
  });
  finder.observe(document.documentElement, { childList: true, subtree: true });
}
