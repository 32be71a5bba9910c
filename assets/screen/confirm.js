/* The screen's confirm steps: what must not happen on one stray click or key.
 * - buildConfirmDialog: a modal box with a title, the step's own parts, and two buttons, "confirm"
 *   (Enter) and "back" (Esc): close or merge a sighting (queue.js), reassign a crew (panels.js). Each
 *   step keeps its own keys and state; this only builds the box, hidden.
 * - twoClickButton: a button that acts on its second click within a few seconds (cancel an
 *   assignment: panels.js; acknowledge every alert of a kind: alerts.js). */

var ARMED_MS = 4000; // how long a two-click button waits for its second click
import { el, append } from "../common/dom.js";

/** {id, className, confirmLabel, backLabel, confirmAction (data-action of the confirm button, optional),
 * onConfirm, onBack, parts: elements between the title and the buttons} -> {root, title, confirm, back}. */
export function buildConfirmDialog(options) {
  var root = el("div", "end-dialog" + (options.className ? " " + options.className : ""));
  root.id = options.id;
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-modal", "true");
  root.hidden = true;
  var title = el("div", "end-title");
  var confirm = el("button", "end-confirm", options.confirmLabel);
  confirm.type = "button";
  if (options.confirmAction) confirm.dataset.action = options.confirmAction;
  confirm.addEventListener("click", options.onConfirm);
  var back = el("button", "end-back", options.backLabel);
  back.type = "button";
  back.addEventListener("click", options.onBack);
  append(root, title, ...(options.parts || []), append(el("div", "end-buttons"), confirm, back));
  document.body.appendChild(root);
  return { root: root, title: title, confirm: confirm, back: back };
}

/** A button reading `label` that, clicked, reads `armedLabel` for a few seconds: a second click then
 * calls onConfirm. data-action = `action`, data-confirm = "1" while armed (browser tests). */
export function twoClickButton(className, label, armedLabel, action, onConfirm) {
  var button = el("button", className, label);
  button.dataset.action = action;
  button.addEventListener("click", function () {
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = armedLabel;
      button.classList.add("is-confirm");
      setTimeout(function () {
        button.dataset.confirm = "";
        button.textContent = label;
        button.classList.remove("is-confirm");
      }, ARMED_MS);
      return;
    }
    onConfirm();
  });
  return button;
}
