/*
 * Patrol tablet: the line that answers the officer ("Cleared (dispersed)", "Refused: ...").
 */
import { page } from "./page.js";

let message = { ok: null, text: "" };

/** ok: true (done), false (refused), null (nothing to say). */
export function say(ok, text) {
  message = { ok: ok, text: text || "" };
  renderMessage();
}

export function renderMessage() {
  if (!page.started) return;
  const box = page.byId("message");
  box.textContent = message.text;
  if (message.ok === null) delete box.dataset.ok;
  else box.dataset.ok = String(message.ok);
}
