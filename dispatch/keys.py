"""Every Redis key, stream and consumer-group name, built from the site.

All keys of one site share the hash tag ``{site}`` so that they live in one
Redis Cluster slot: Lua scripts and transactions over several of them work on a
cluster, and different sites spread over shards.
"""

from __future__ import annotations

from dataclasses import dataclass

INGEST_GROUP = "ingest"


@dataclass(frozen=True)
class Keys:
    site: str

    def _key(self, name: str) -> str:
        return f"{{{self.site}}}:{name}"

    # Input streams: written by anyone with XADD, untrusted.
    @property
    def in_telemetry(self) -> str:
        return self._key("in:telemetry")

    @property
    def in_sightings(self) -> str:
        return self._key("in:sightings")

    @property
    def in_patrols(self) -> str:
        return self._key("in:patrols")

    @property
    def inputs(self) -> dict[str, str]:
        """Input stream of each message kind, in the order ingest reads them."""
        return {
            "telemetry": self.in_telemetry,
            "sighting": self.in_sightings,
            "patrol": self.in_patrols,
        }

    # Output streams.
    @property
    def live(self) -> str:
        """Compact deltas of the current picture, tailed by the push gateway."""
        return self._key("live")

    @property
    def deadletter(self) -> str:
        """Rejected input entries, with their reason and original fields."""
        return self._key("deadletter")

    # The current picture.
    @property
    def drones(self) -> str:
        """Hash drone_id -> latest telemetry (JSON)."""
        return self._key("drones")

    @property
    def patrols(self) -> str:
        """Hash patrol_id -> latest patrol report (JSON)."""
        return self._key("patrols")

    @property
    def drones_ts(self) -> str:
        """Hash drone_id -> ts of the stored telemetry: the newer-wins check reads it."""
        return self._key("drones:ts")

    @property
    def patrols_ts(self) -> str:
        return self._key("patrols:ts")

    @property
    def sightings_ts(self) -> str:
        return self._key("sightings:ts")

    @property
    def patrols_available(self) -> str:
        """GEO set of the patrols whose latest status is available."""
        return self._key("patrols:available")

    @property
    def sightings(self) -> str:
        """Hash sighting_id -> open sighting (JSON)."""
        return self._key("sightings")

    # Dispatch: assignments, alerts, zones.
    @property
    def assignments(self) -> str:
        """Stream of every assignment event (created, each state change): replay and review read it."""
        return self._key("assignments")

    @property
    def sighting_endings(self) -> str:
        """Stream of every sighting's ending (dispatched, closed with a reason, merged, expired): replay reads it."""
        return self._key("sightings:endings")

    @property
    def assignments_open(self) -> str:
        """Hash assignment_id -> latest state (JSON) of each assignment not yet cleared or cancelled."""
        return self._key("assignments:open")

    @property
    def patrol_assignment(self) -> str:
        """Hash patrol_id -> assignment_id of its one open assignment (at most one per patrol)."""
        return self._key("patrols:assignment")

    @property
    def alerts(self) -> str:
        """Stream of every alert event (raised, acknowledged, resolved)."""
        return self._key("alerts")

    @property
    def alerts_open(self) -> str:
        """Hash alert_id -> latest state (JSON) of each alert not yet resolved."""
        return self._key("alerts:open")

    @property
    def zones(self) -> str:
        """Hash zone_id -> authorised flight zone (JSON): perimeter, decree, validity period."""
        return self._key("zones")

    @property
    def zones_log(self) -> str:
        """Stream of every zone change (saved with its JSON, or deleted), appended in the change's own
        atomic step: replay draws the zones as they were stored at each instant."""
        return self._key("zones:log")

    @property
    def audit(self) -> str:
        """Stream of every action taken through the product: who, what, when, from where."""
        return self._key("audit")

    # Who may sign in, and who is signed in.
    @property
    def accounts(self) -> str:
        """Hash user_id -> staff account (JSON): role and scrypt hash of the password, never the password."""
        return self._key("accounts")

    @property
    def patrol_codes(self) -> str:
        """Hash patrol_id -> its current sign-in code (JSON): scrypt hash, expiry, issuer. Used once."""
        return self._key("patrol_codes")

    @property
    def sessions(self) -> str:
        """Prefix of the session keys; see `session`."""
        return self._key("sessions")

    def session(self, digest: str) -> str:
        """One signed-in session (hash, expiring with it), named by the SHA-256 of its id."""
        return f"{self.sessions}:{digest}"

    @property
    def user_sessions(self) -> str:
        """Prefix of the per-user session indexes; see `sessions_of`. Under the sessions prefix: it
        belongs with them and expires with them."""
        return self._key("sessions:user")

    def sessions_of(self, user_id: str) -> str:
        """Set of the session digests of one user (staff code or call sign): deleting an account or
        resetting its password ends every one of them. Expires with the user's last session."""
        return f"{self.user_sessions}:{user_id}"

    @property
    def signin_failures(self) -> str:
        """Prefix of the failed sign-in counters; see `signin_failure`."""
        return self._key("signin_failures")

    def signin_failure(self, subject: str) -> str:
        """Failed sign-ins of one subject (`addr:<ip>`, `user:<id>`), expiring with its lock."""
        return f"{self.signin_failures}:{subject}"

    @property
    def patrol_actions(self) -> str:
        """Prefix of the tablet actions' records, one string key per action (see `patrol_action`), 24 h TTL."""
        return self._key("patrol_actions")

    def patrol_action(self, patrol_id: str, action_id: str) -> str:
        """The answer given to one tablet action: a resend of the same action id gets it back unchanged."""
        return f"{self.patrol_actions}:{patrol_id}:{action_id}"

    @property
    def stats(self) -> str:
        """Hash of counters: accepted and rejected entries per kind."""
        return self._key("stats")

    @property
    def sighting_numbers(self) -> str:
        """Prefix of the per-day incident number counters; see `sighting_number`."""
        return self._key("numbers:sightings")

    def sighting_number(self, day: str) -> str:
        """The last incident number given on one local day (YYYY-MM-DD, domain/numbers.py): an integer
        string, incremented by the ingest step only, expiring two days after its last number."""
        return f"{self.sighting_numbers}:{day}"

    # Bridges (issue 13): the protocol bridges' own counters.
    @property
    def bridge_stats(self) -> str:
        """Hash of the bridges' counters, `<bridge>:<counter>` -> count: messages in, telemetry out,
        dropped by reason (dispatch/services/bridges/counters.py)."""
        return self._key("bridges:stats")
