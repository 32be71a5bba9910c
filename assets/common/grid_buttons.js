/*
 * Row buttons in AG Grid tables (dash-ag-grid): the `RowButtons` cell renderer.
 *
 * AG Grid draws a cell with a component it finds in window.dashAgGridComponentFunctions. Each row
 * carries its buttons as data (dispatch/ui/grid.py row_button: action, label, title, ariaLabel,
 * className, disabled); this draws them as real <button>s (Tab reaches them, Enter and Space press
 * them; admin.css makes them 44 px targets; Tab goes from one to the next, see onKeyDown). A press goes back to Python through the grid's
 * `cellRendererData` prop: props.setData({action}) (dash-ag-grid adds the row id and a time stamp,
 * so pressing the same button twice is two changes). Labels are text, never markup.
 */

/** The button Tab (or Shift+Tab when `backwards`) goes to from `current` among `buttons` (the grid's enabled
 * row buttons, in document order), or null at either end: the browser then leaves the grid as usual. */
export function nextButton(buttons, current, backwards) {
  const index = buttons.indexOf(current);
  if (index < 0) return null;
  return buttons[backwards ? index - 1 : index + 1] || null;
}

/* AG Grid makes its rows focus stops: Tab from a button would land on the next row, not on its buttons.
 * So Tab moves from button to button within the grid itself (the column's suppressKeyboardEvent keeps
 * AG Grid's own Tab handling away from the buttons, dispatch/ui/grid.py). */
function onKeyDown(event) {
  if (event.key !== "Tab") return;
  const grid = event.currentTarget.closest(".ag-root-wrapper");
  if (!grid) return;
  const buttons = Array.from(grid.querySelectorAll("button[data-action]:not(:disabled)"));
  const target = nextButton(buttons, event.currentTarget, event.shiftKey);
  if (target) {
    event.preventDefault();
    target.focus();
  }
}

/** The React elements of one cell's buttons; `h` is React.createElement. */
export function rowButtons(h, props) {
  const buttons = Array.isArray(props.value) ? props.value : [];
  return h("div", { className: "grid-buttons" }, ...buttons.map(function (button) {
    return h("button", {
      key: button.action,
      type: "button",
      className: button.className || "btn",
      title: button.title || undefined,
      "aria-label": button.ariaLabel || undefined,
      "data-action": button.action,
      disabled: Boolean(button.disabled),
      onClick: function () { props.setData({ action: button.action }); },
      onKeyDown: onKeyDown,
    }, String(button.label));
  }));
}

/** Adds RowButtons to the renderers AG Grid looks up (keeping any other page's). */
export function register(target) {
  const renderers = target.dashAgGridComponentFunctions || {};
  renderers.RowButtons = function RowButtons(props) { return rowButtons(target.React.createElement, props); };
  target.dashAgGridComponentFunctions = renderers;
}

if (typeof window !== "undefined") register(window);
