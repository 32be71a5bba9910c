/*
 * Patrol tablet: taking an action, and the server's answer to it.
 *
 * A tap is queued in the outbox (kept across reloads), shown at once, and sent when the link allows.
 */
import { live } from "../common/live_client.js";
import { say } from "./message.js";
import { outbox } from "./outbox.js";
import { page } from "./page.js";
import { assignment, confirm, enabledActions } from "./picture.js";
import { position } from "./position.js";
import { render, showOutcomes } from "./render.js";
import { STEP_STATE } from "./view.js";

/** A random (version 4) UUID: crypto.randomUUID exists only on https pages, getRandomValues everywhere. */
function uuid4() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

/* Take an action: queued, shown at once, sent when the link allows; returns its id, or null if not taken.
   options.force sends it even when the lifecycle does not allow it (the server refuses it). */
export function act(action, options) {
  options = options || {};
  if (!options.force && enabledActions().indexOf(action) < 0) return null;
  const open = assignment();
  const item = { action_id: uuid4(), action: action, tapped_ms: Date.now() };
  if (STEP_STATE[action]) {
    item.assignment_id = options.assignment_id || (open ? open.unit.assignment_id : null);
    if (!item.assignment_id) return null;
  }
  if (options.outcome) item.outcome = options.outcome;
  const here = position.fix;
  if (here) { item.lat = here.lat; item.lon = here.lon; }
  say(null, "");
  outbox.push(item);
  return item.action_id;
}

/* The server's answer to one of our actions (fresh, or the recorded answer to an earlier copy). */
export function onAnswer(item, answer) {
  confirm(item, answer);
  say(!!answer.ok, answer.message || (answer.ok ? "Done" : "Refused"));
  render();
}

/* Taps on the buttons (one listener per group, set up by main.js). Clear first asks for the outcome. */
export function onTap(event) {
  const button = event.target.closest("button");
  if (!button || button.disabled) return;
  if (button.dataset.action) {
    if (button.dataset.action === "clear") showOutcomes(true);
    else act(button.dataset.action);
  } else if (button.dataset.outcome !== undefined) {
    showOutcomes(false); // an outcome, or Back
    if (button.dataset.outcome) act("clear", { outcome: button.dataset.outcome });
  }
}

/* Sign out (POST /logout with the CSRF header), after a warning if actions have not been sent yet:
   they stay in this tablet's storage for this patrol, and go when it signs in again. */
export function signOut() {
  const waiting = outbox.items().length;
  if (waiting && !window.confirm(waiting + " action" + (waiting === 1 ? " has" : "s have") +
      " not reached the server yet. They will be sent when " + page.config.patrol_id +
      " signs in again on this tablet. Sign out anyway?")) return;
  live.close();
  outbox.request("POST", page.config.api.sign_out, {}).then(function () {
    window.location.assign("/login/patrol?signed_out=1");
  });
}
