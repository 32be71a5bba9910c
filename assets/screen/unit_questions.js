/* Questions to the server about units (dispatch/ui/actions.py `units_for`): one at a time through one
 * Dash store (units_request -> units_result), the latest of each kind ("since", "available", "detail")
 * waiting its turn; an answer is matched to its question by nonce and handed to the asker's handler. */
import { setProps } from "./state.js";

var TIMEOUT_MS = 10000;

var nonce = 0;
var inFlight = null; // {nonce, request, handle, timer}
var queued = {}; // query kind -> {request, handle}, the latest waiting

/** Ask `request` ({query, ...}); handle(answer, request) is called with its answer. */
export function ask(request, handle) {
  queued[request.query] = { request: request, handle: handle };
  pump();
}

function pump() {
  if (inFlight) return;
  var kinds = Object.keys(queued);
  if (!kinds.length) return;
  var waiting = queued[kinds[0]];
  delete queued[kinds[0]];
  nonce += 1;
  inFlight = { nonce: nonce, request: waiting.request, handle: waiting.handle };
  inFlight.timer = setTimeout(function () { inFlight = null; pump(); }, TIMEOUT_MS);
  setProps("units_request", { data: Object.assign({ nonce: nonce }, waiting.request) });
}

/** The answer to the question in flight (main.js's bridge from units_result); a late one is dropped. */
export function onAnswer(answer) {
  if (!inFlight || answer.nonce !== inFlight.nonce) return;
  var question = inFlight;
  clearTimeout(inFlight.timer);
  inFlight = null;
  try {
    question.handle(answer, question.request);
  } finally {
    pump();
  }
}
