/*
 * Patrol tablet: where the tablet is, and reporting it.
 *
 * With the officer's permission (the browser asks once), navigator.geolocation.watchPosition gives
 * fixes; the latest one is reported to POST /api/patrol/position every config.position_every_ms
 * (5 s), or config.position_en_route_every_ms (2 s) while driving to a call, which the server
 * writes to {site}:in:patrols as a car terminal would. The report carries the crew's own status as
 * the tablet holds it; the server replaces it with the assignment's while one is open.
 *
 * Positions are perishable: one that cannot be sent is dropped, never queued, and none is sent while
 * actions wait in the outbox (an old status must not overtake a newer action on its way).
 */
import { page } from "./page.js";
import { outbox } from "./outbox.js";
import { assignment, selfStatus, server } from "./picture.js";

let lastSentAt = 0;
let sending = false;
let changed = function () {};

export const position = {
  fix: null, // {lat, lon, accuracy_m, ts}
  error: null,
  reports: 0, // positions the server accepted (a test hook)
  /** onChange: called on every new fix (main.js: redraw). */
  init: function (onChange) {
    changed = onChange;
    if (!navigator.geolocation) {
      position.error = "no geolocation on this device";
      return;
    }
    navigator.geolocation.watchPosition(onFix, function (error) { position.error = error.message || String(error.code); },
                                        { enableHighAccuracy: true, maximumAge: 2000, timeout: 20000 });
    setInterval(maybeSend, 500);
  }
};

/** Where the patrol is: its own fix when the browser gives one, else its last report. */
export function here() {
  if (position.fix) return position.fix;
  return server.patrol ? { lat: server.patrol.lat, lon: server.patrol.lon } : null;
}

function onFix(reported) {
  const coords = reported.coords;
  if (!isFinite(coords.latitude) || !isFinite(coords.longitude)) return;
  position.fix = { lat: coords.latitude, lon: coords.longitude, accuracy_m: coords.accuracy,
                   ts: Math.round(reported.timestamp || Date.now()) };
  position.error = null;
  maybeSend();
  changed();
}

function every() {
  const open = assignment();
  return open && open.state === "en_route" ? page.config.position_en_route_every_ms : page.config.position_every_ms;
}

function maybeSend() {
  if (!page.started || position.fix === null || sending || outbox.items().length) return;
  if (Date.now() - lastSentAt < every()) return;
  lastSentAt = Date.now();
  sending = true;
  const report = { lat: position.fix.lat, lon: position.fix.lon, ts: position.fix.ts };
  const status = selfStatus();
  if (status) report.status = status;
  outbox.request("POST", page.config.api.position, report).then(function (reply) {
    sending = false;
    if (reply.status === 200) position.reports += 1;
  });
}
