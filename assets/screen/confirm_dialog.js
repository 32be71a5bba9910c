/* The scaffolding of the screen's confirm steps (close or merge a sighting: queue.js; reassign a crew:
 * panels.js): a modal box with a title, the step's own parts, and two buttons, "confirm" (Enter) and
 * "back" (Esc). Each step keeps its own keys and state; this only builds the box, hidden. */
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
