/*
 * Replay page: asking the server for frames (GET /api/replay/frame?t=), at most one request in flight.
 * While one is out, later instants only overwrite the one wanted; when it returns, the newest instant
 * wanted meanwhile is fetched. Playing at 60x, the map shows as many instants as the round trip
 * allows and never queues stale ones. Pure but for the injected fetch (tests/js/replay/frames.test.js).
 */

/**
 * options.fetchFrame(t) -> Promise of {status, body}; options.onFrame(body, requestedAt) draws a frame;
 * options.onRefused(reply) is told of an answer other than 200 (nothing more is fetched until the next
 * request). A request that fails (network) is retried after options.retryMs with the instant wanted then.
 * reset() forgets what was wanted: an answer still out for the previous window is dropped.
 */
export function frameRequester(options) {
  const retryMs = options.retryMs === undefined ? 500 : options.retryMs;
  const later = options.later || function (fn, ms) { return setTimeout(fn, ms); };
  const clock = options.clock || function () { return performance.now(); };
  let inFlight = false;
  let wanted = null;
  let generation = 0;

  function fetchOne(t, mine) {
    inFlight = true;
    const requestedAt = clock();
    options.fetchFrame(t).then(function (reply) {
      inFlight = false;
      if (mine !== generation) return fetchWanted();
      if (reply.status !== 200) return options.onRefused(reply);
      options.onFrame(reply.body, requestedAt);
      if (wanted !== t) fetchOne(wanted, mine); // only the newest instant wanted meanwhile
    }, function () {
      inFlight = false;
      if (mine !== generation) return fetchWanted();
      if (wanted !== null) later(function () { if (wanted !== null) request(wanted); }, retryMs);
    });
  }

  /* An answer about a previous window came back: what the current one wants is fetched now. */
  function fetchWanted() {
    if (wanted !== null && !inFlight) fetchOne(wanted, generation);
  }

  function request(t) {
    wanted = t;
    if (!inFlight) fetchOne(t, generation);
  }

  return {
    request: request,
    reset: function () {
      generation += 1;
      wanted = null;
    },
    get inFlight() { return inFlight; }
  };
}
