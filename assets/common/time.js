/* Times as people read them: the site's wall clock (config.timezone, whatever the device's own zone)
 * and ages ("42 s ago"). Pure: tested under Node (tests/js/common/time.test.js). */

const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
const DAY = { weekday: "short", day: "numeric", month: "short", year: "numeric" };

/** An Intl format in `timezone`; the device's zone if the name is unknown to this browser. */
export function formatIn(timezone, options) {
  try {
    return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: timezone }, options));
  } catch (error) {
    return new Intl.DateTimeFormat("en-GB", options);
  }
}

/** clock(ms) -> "HH:MM:SS" on the site's clock, "--:--:--" when there is no time. */
export function siteClock(timezone) {
  const format = formatIn(timezone, CLOCK);
  return function clock(ms) {
    return typeof ms === "number" && isFinite(ms) ? format.format(new Date(ms)) : "--:--:--";
  };
}

/** day(ms) -> "Thu, 3 Dec 2026" on the site's calendar. */
export function siteDay(timezone) {
  const format = formatIn(timezone, DAY);
  return function day(ms) { return format.format(new Date(ms)); };
}

/** How long, for a person: "42 s", "3 min", "1 h 05". Negative spans (clock skew) read as 0 s. */
export function span(ms) {
  const seconds = Math.floor(Math.max(0, Number(ms) || 0) / 1000);
  if (seconds < 60) return seconds + " s";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + " min";
  const rest = minutes % 60;
  return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest;
}

/** "42 s ago", "3 min ago", "1 h 05 ago". */
export function age(ms) {
  return span(ms) + " ago";
}
