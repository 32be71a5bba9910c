/*
 * Patrol tablet: where the tablet is, and reporting it (see tablet_core.js for the file map).
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
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});
  var lastSentAt = 0;
  var sending = false;

  var P = {
    fix: null, // {lat, lon, accuracy_m, ts}
    error: null,
    reports: 0, // positions the server accepted (a test hook)
    init: function () {
      if (!navigator.geolocation) {
        P.error = "no geolocation on this device";
        return;
      }
      navigator.geolocation.watchPosition(onFix, function (error) { P.error = error.message || String(error.code); },
                                          { enableHighAccuracy: true, maximumAge: 2000, timeout: 20000 });
      setInterval(maybeSend, 500);
    }
  };
  T.position = P;

  function onFix(position) {
    var coords = position.coords;
    if (!isFinite(coords.latitude) || !isFinite(coords.longitude)) return;
    P.fix = { lat: coords.latitude, lon: coords.longitude, accuracy_m: coords.accuracy,
              ts: Math.round(position.timestamp || Date.now()) };
    P.error = null;
    maybeSend();
    T.render();
  }

  function every() {
    var open = T.assignment();
    return open && open.state === "en_route" ? T.config.position_en_route_every_ms : T.config.position_every_ms;
  }

  function maybeSend() {
    if (!T.started || P.fix === null || sending || T.outbox.items().length) return;
    if (Date.now() - lastSentAt < every()) return;
    lastSentAt = Date.now();
    sending = true;
    var report = { lat: P.fix.lat, lon: P.fix.lon, ts: P.fix.ts };
    var status = T.selfStatus();
    if (status) report.status = status;
    T.outbox.request("POST", T.config.api.position, report).then(function (reply) {
      sending = false;
      if (reply.status === 200) P.reports += 1;
    });
  }
})();
