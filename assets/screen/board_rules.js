/* The unit status board's order: pure (tests/js/screen/board_rules.test.js). */

var STATUS_ORDER = { available: 0, assigned: 1, en_route: 2, on_scene: 3, unavailable: 4 };

function byFigure(a, b) { // Infinity (no report yet) sorts after every figure, and equal to another Infinity
  return a === b ? 0 : a - b;
}

/** A comparator of board rows ({id, status, inStatus, report, sighting}) by column `key` ("callsign",
 * "status", "since", "report", "sighting"), descending when `desc`; equal rows by call sign, with
 * numbers in call signs read as numbers (BAC-9 before BAC-10). */
export function compareBoardRows(key, desc) {
  return function (a, b) {
    var x = key === "status" ? STATUS_ORDER[a.status] - STATUS_ORDER[b.status]
      : key === "since" ? byFigure(a.inStatus, b.inStatus)
      : key === "report" ? byFigure(a.report, b.report)
      : key === "sighting" ? a.sighting.localeCompare(b.sighting) : 0;
    if (x === 0) x = a.id.localeCompare(b.id, undefined, { numeric: true });
    return desc ? -x : x;
  };
}
