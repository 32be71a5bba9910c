/*
 * Patrol tablet: the outbox's rules (outbox.js sends; this says what each answer means).
 *
 * Actions go oldest first, one at a time, each with the id the tablet gave it: the server applies an
 * id once and answers any later copy with the recorded answer, so sending again is always safe.
 * What an HTTP status means for the action at the head (dispatch/web/patrol_api.py):
 *
 *   200 applied / 422 refused by a rule / 400 malformed -> "answered": drop it, show the message
 *   409 another copy is being applied                  -> "busy": keep it, ask again in a second
 *   401 / 403 signed out or wrong role                 -> "signed_out": keep it (sent after signing in)
 *   500 MAX_SERVER_ERRORS times for the same action    -> "server_bug": drop it, say so, so that it
 *                                                         does not hold up the actions behind it
 *   anything else, or no answer at all (0)             -> "unreachable": keep it, retry with backoff
 *
 * Pure: tested under Node (tests/js/tablet/outbox_rules.test.js).
 */

export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 10000;
export const MAX_SERVER_ERRORS = 5; // a 500 (not a 503) this often for one action: a bug on that action, not the link
const ANSWERED = { 200: true, 400: true, 422: true };

/** A 5xx that is not the server saying it cannot act now (503): counted against the action. */
export function isServerError(status) {
  return status >= 500 && status !== 503;
}

/** What to do with the head action after `status`; serverErrors: its server errors so far, this one included. */
export function replyVerdict(status, serverErrors) {
  if (ANSWERED[status]) return "answered";
  if (status === 409) return "busy";
  if (status === 401 || status === 403) return "signed_out";
  if (isServerError(status) && serverErrors >= MAX_SERVER_ERRORS) return "server_bug";
  return "unreachable";
}

/** The wait before the next try after `failures` unreachable tries in a row: 1 s, 2 s, 4 s... up to 10 s. */
export function retryDelay(failures) {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * Math.pow(2, Math.max(0, failures - 1)));
}

/** The actions kept in storage (JSON text, or null): the well-formed ones, in order; [] if unreadable. */
export function storedActions(text) {
  try {
    const stored = JSON.parse(text || "[]");
    return Array.isArray(stored) ? stored.filter(function (item) { return item && item.action_id; }) : [];
  } catch (error) {
    return [];
  }
}

