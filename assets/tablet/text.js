/*
 * Patrol tablet: the texts the officer reads (see tablet_core.js for the file map).
 *
 * "650 m north-east", "42 s ago", the site's clock. The rules are dispatch/domain/tablet.py's, written
 * again here because they change with every fix and every second, without a server round trip; the
 * browser test compares the two over a table of values, to the character.
 */
(function () {
  "use strict";

  var T = (window.dispatchTablet = window.dispatchTablet || {});
  var COMPASS = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];
  var EARTH_RADIUS_M = 6371008.8;
  var HERE_M = 20;

  // ---- texts: the same rules as dispatch/domain/tablet.py (the browser test compares them) ------------------
  T.text = {
    compassPoint: function (bearing) {
      var b = ((Number(bearing) % 360) + 360) % 360;
      return COMPASS[Math.floor((b + 22.5) / 45) % 8];
    },
    distanceWords: function (metres) {
      var m = Math.max(0, Number(metres));
      if (m < 995) return Math.floor(m / 10 + 0.5) * 10 + " m";
      if (m < 9950) {
        var tenths = Math.floor(m / 100 + 0.5);
        return Math.floor(tenths / 10) + "." + (tenths % 10) + " km";
      }
      return Math.floor(m / 1000 + 0.5) + " km";
    },
    metres: function (lat1, lon1, lat2, lon2) {
      var rad = Math.PI / 180;
      var p1 = lat1 * rad, p2 = lat2 * rad, dp = (p2 - p1) / 2, dl = (lon2 - lon1) * rad / 2;
      var a = Math.pow(Math.sin(dp), 2) + Math.cos(p1) * Math.cos(p2) * Math.pow(Math.sin(dl), 2);
      return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, Math.max(0, a))));
    },
    bearing: function (lat1, lon1, lat2, lon2) {
      var rad = Math.PI / 180;
      var p1 = lat1 * rad, p2 = lat2 * rad, dl = (lon2 - lon1) * rad;
      var y = Math.sin(dl) * Math.cos(p2);
      var x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
      return ((Math.atan2(y, x) / rad) % 360 + 360) % 360;
    },
    target: function (lat1, lon1, lat2, lon2) {
      var m = T.text.metres(lat1, lon1, lat2, lon2);
      if (m < HERE_M) return "here";
      return T.text.distanceWords(m) + " " + T.text.compassPoint(T.text.bearing(lat1, lon1, lat2, lon2));
    },
    age: function (ms) {
      var seconds = Math.floor(Math.max(0, Number(ms)) / 1000);
      if (seconds < 60) return seconds + " s ago";
      var minutes = Math.floor(seconds / 60);
      if (minutes < 60) return minutes + " min ago";
      var rest = minutes % 60;
      return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " ago";
    }
  };

  var clockFormat = null;
  T.clock = function (ms) { // HH:MM:SS on the site's clock (config.timezone), whatever the tablet's zone
    if (clockFormat === null) {
      var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
      try {
        clockFormat = new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: T.config.timezone }, options));
      } catch (error) {
        clockFormat = new Intl.DateTimeFormat("en-GB", options);
      }
    }
    return typeof ms === "number" && isFinite(ms) ? clockFormat.format(new Date(ms)) : "--:--:--";
  };
  /* Now on the server's clock when known: ages stay right on a tablet whose clock is off. */
  T.now = function () {
    var offset = window.dispatchLive ? window.dispatchLive.status.serverOffsetMs : null;
    return Date.now() + (typeof offset === "number" ? offset : T.serverOffsetMs || 0);
  };
})();
