/*
 * Row buttons in AG Grid tables (dash-ag-grid): the `RowButtons` cell renderer.
 *
 * AG Grid draws a cell with a component it finds in window.dashAgGridComponentFunctions. Each row
 * carries its buttons as data (dispatch/ui/grid.py row_button: action, label, title, ariaLabel,
 * className, disabled); this draws them as real <button>s (Tab reaches them, Enter and Space press
 * them; admin.css makes them 44 px targets). A press goes back to Python through the grid's
 * `cellRendererData` prop: props.setData({action}) (dash-ag-grid adds the row id and a time stamp,
 * so pressing the same button twice is two changes). Labels are text, never markup.
 */

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
