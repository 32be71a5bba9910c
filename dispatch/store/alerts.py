"""Alerts in Redis: the open ones (`{site}:alerts:open`), their history (`{site}:alerts`), live deltas.

Every change is one atomic step that updates the open hash, appends the event
to the alerts stream and publishes the live delta (field `alerts`: a JSON array
of alerts, resolved ones as `{"alert_id", "kind", "unit_id", "closed": true}`).

Applying a diff is idempotent: an alert is raised only if it is not open
(HSETNX) and resolved only if it is (HDEL's answer), so two watchers running
by mistake, or a watcher retrying after a lost reply, never record an event
twice. A supervisor's acknowledgement is a WATCH/MULTI transaction around the
pure rule in domain/alerts.py: if the watcher resolves the alert meanwhile, the
acknowledgement is refused instead of resurrecting it. The acknowledgement's
audit entry is written in the same transaction; a refused one is audited after
the refusal. Raising and resolving are the watcher's, recorded on the alerts
stream; the one that is a legal fact, a drone outside every authorised zone,
also goes on the audit trail (actor `system`) in the same step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import orjson
import redis
from pydantic import ValidationError

from ..domain import alerts as rules
from ..domain.alerts import Alert, AlertError, AlertKind
from ..domain.audit import INTERNAL_ORIGIN, Action, AuditEntry, AuditRole, make_entry
from ..keys import Keys
from ..settings import Settings
from .audit import AUDIT_LUA, audit_argv, record, refusal_audited

log = logging.getLogger(__name__)

_APPLY_LUA = AUDIT_LUA + r"""
-- KEYS: alerts:open, alerts, live, audit
-- ARGV: now_ms, live_maxlen, alerts MINID, raised count, (id, json, audit fields)*,
--       resolved count, (id, closed json, audit fields)*; audit fields as audit_argv lays them out
--       (a count of 0: the change owes no audit entry)
local OPEN, STREAM, LIVE, AUDIT = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, maxlen, minid = ARGV[1], ARGV[2], ARGV[3]
local at, live, raised, resolved = 4, {}, {}, {}
for i = 1, tonumber(ARGV[at]) do
  local id, json = ARGV[at + 1], ARGV[at + 2]
  local audit
  audit, at = audit_fields_at(at + 3)
  at = at - 1
  if redis.call('HSETNX', OPEN, id, json) == 1 then
    redis.call('XADD', STREAM, 'MINID', '~', minid, '*', 'event', 'raised', 'alert_id', id, 'ts', now, 'alert', json)
    if #audit > 0 then record_audit(AUDIT, audit) end
    live[#live + 1], raised[#raised + 1] = json, id
  end
end
at = at + 1
for i = 1, tonumber(ARGV[at]) do
  local id, closed = ARGV[at + 1], ARGV[at + 2]
  local audit
  audit, at = audit_fields_at(at + 3)
  at = at - 1
  local stored = redis.call('HGET', OPEN, id)
  if stored then
    redis.call('HDEL', OPEN, id)
    redis.call('XADD', STREAM, 'MINID', '~', minid, '*', 'event', 'resolved', 'alert_id', id, 'ts', now, 'alert', stored)
    if #audit > 0 then record_audit(AUDIT, audit) end
    live[#live + 1], resolved[#resolved + 1] = closed, id
  end
end
local live_id = false
if #live > 0 then
  live_id = redis.call('XADD', LIVE, 'MAXLEN', '~', maxlen, '*', 'alerts', '[' .. table.concat(live, ',') .. ']')
end
return {raised, resolved, live_id}
"""


@dataclass(frozen=True)
class Applied:
    """What a diff actually changed: ids raised and resolved, and the live delta's id (None if nothing)."""

    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    live_id: str | None = None


class AlertStore:
    """Alert persistence for one site, bound to a client (the Lua step is loaded once, EVALSHA after)."""

    def __init__(self, client: redis.Redis, keys: Keys, *, live_maxlen: int = Settings.live_maxlen,
                 retention_ms: int = Settings().retention_ms):
        self.client = client
        self.keys = keys
        self.live_maxlen = live_maxlen
        # Alerts carry drone and sighting positions: the stream is a recording, kept at most as long as
        # the others (7 days by default). Acknowledgements are also on the audit trail.
        self.retention_ms = retention_ms
        self._apply = client.register_script(_APPLY_LUA)

    def read_open(self) -> dict[str, Alert]:
        return read_open_alerts(self.client, self.keys)

    def apply(self, raised: list[Alert], resolved: list[Alert], now_ms: int,
              audits: Mapping[str, AuditEntry] | None = None) -> Applied:
        """Record a diff from domain.alerts.diff in one atomic step. `audits` (by alert id, from
        domain.alerts.zone_audit_entries) go on the trail with their change, and only if it happens:
        a second watcher applying the same diff records nothing twice."""
        if not raised and not resolved:
            return Applied()
        audits = audits or {}
        args: list = [now_ms, self.live_maxlen, max(0, now_ms - self.retention_ms), len(raised)]
        for alert in raised:
            args += [alert.alert_id, alert.model_dump_json(), *_audit_args(audits.get(alert.alert_id))]
        args.append(len(resolved))
        for alert in resolved:
            args += [alert.alert_id, orjson.dumps(closed_item(alert)), *_audit_args(audits.get(alert.alert_id))]
        done_raised, done_resolved, live_id = self._apply(
            keys=[self.keys.alerts_open, self.keys.alerts, self.keys.live, self.keys.audit], args=args)
        return Applied([i.decode() for i in done_raised], [i.decode() for i in done_resolved],
                       live_id.decode() if live_id else None)

    def escalate(self, alerts: list[Alert], now_ms: int) -> list[str]:
        return escalate(self.client, self.keys, alerts, now_ms, live_maxlen=self.live_maxlen,
                        retention_ms=self.retention_ms)

    def acknowledge(self, alert_id: str, supervisor_id: str, now_ms: int, *, origin: str = INTERNAL_ORIGIN) -> Alert:
        return acknowledge(self.client, self.keys, alert_id, supervisor_id, now_ms,
                           live_maxlen=self.live_maxlen, retention_ms=self.retention_ms, origin=origin)


def _audit_args(entry: AuditEntry | None) -> list[str]:
    return audit_argv(entry) if entry is not None else ["0"]


def closed_item(alert: Alert) -> dict:
    return {"alert_id": alert.alert_id, "kind": alert.kind.value, "unit_id": alert.unit_id, "closed": True}


def read_open_alerts(client: redis.Redis, keys: Keys) -> dict[str, Alert]:
    """Every open alert by id. An unreadable stored value is logged and skipped."""
    alerts = {}
    for alert_id, raw in client.hgetall(keys.alerts_open).items():
        try:
            alert = Alert.model_validate_json(raw)
        except ValidationError as error:
            log.error("open alert %r is unreadable, ignored: %s", alert_id, error)
            continue
        alerts[alert.alert_id] = alert
    return alerts


def acknowledge(client: redis.Redis, keys: Keys, alert_id: str, supervisor_id: str, now_ms: int, *,
                live_maxlen: int = Settings.live_maxlen,
                retention_ms: int = Settings().retention_ms, origin: str = INTERNAL_ORIGIN) -> Alert:
    """Mark an open alert acknowledged by a supervisor, record who and when, publish it.

    Raises AlertError (readable, for the supervisor's screen) if the alert is
    not open (never raised, or already resolved) or was already acknowledged.
    `origin` (the supervisor's client IP, or "internal") goes on the audit entry.
    """
    def step(pipe: redis.client.Pipeline) -> Alert:
        raw = pipe.hget(keys.alerts_open, alert_id)
        if raw is None:
            raise AlertError(_not_open(alert_id))
        alert = rules.acknowledge(Alert.model_validate_json(raw), supervisor_id, now_ms)
        audit = make_entry(ts=now_ms, actor=supervisor_id, role=AuditRole.SUPERVISOR,
                           action=Action.ALERT_ACKNOWLEDGED, target=alert_id, origin=origin,
                           details={"kind": alert.kind.value, "unit_id": alert.unit_id})
        json = alert.model_dump_json()
        pipe.multi()
        pipe.hset(keys.alerts_open, alert_id, json)
        pipe.xadd(keys.alerts, {"event": "acknowledged", "alert_id": alert_id, "ts": now_ms, "by": supervisor_id,
                                "alert": json}, minid=max(0, now_ms - retention_ms), approximate=True)
        pipe.xadd(keys.live, {"alerts": f"[{json}]"}, maxlen=live_maxlen, approximate=True)
        record(pipe, keys, audit)
        return alert

    with refusal_audited(client, keys, AlertError, ts=now_ms, actor=supervisor_id, role=AuditRole.SUPERVISOR,
                         action=Action.ALERT_ACKNOWLEDGED, target=alert_id, origin=origin):
        return client.transaction(step, keys.alerts_open, value_from_callable=True)


def forget_old_positions(client: redis.Redis, keys: Keys, cutoff_ms: int, *,
                         live_maxlen: int = Settings.live_maxlen) -> int:
    """Remove the position of every open alert whose position was fixed before `cutoff_ms` (retention).

    The alert stays open with its text and state; screens get the position-less alert as a live
    delta, as for any other change. WATCH/MULTI: an alert acknowledged or resolved meanwhile is
    re-read, never resurrected. Returns how many alerts lost their position."""
    def step(pipe: redis.client.Pipeline) -> int:
        changed = [rules.without_position(alert) for alert in read_open_alerts(pipe, keys).values()
                   if rules.position_outlived(alert, cutoff_ms)]
        if not changed:
            return 0
        jsons = {alert.alert_id: alert.model_dump_json() for alert in changed}
        pipe.multi()
        pipe.hset(keys.alerts_open, mapping=jsons)
        pipe.xadd(keys.live, {"alerts": "[" + ",".join(jsons.values()) + "]"}, maxlen=live_maxlen, approximate=True)
        return len(changed)

    return client.transaction(step, keys.alerts_open, value_from_callable=True)


def _not_open(alert_id: str) -> str:
    kind = alert_id.partition(":")[0]
    if kind not in {k.value for k in AlertKind}:
        return f"unknown alert {alert_id!r:.80}: alert ids are '<kind>:<unit id>'"
    return f"alert {alert_id!r:.80} is not open: it was already resolved, or never raised"


def alert_events(client: redis.Redis, keys: Keys, count: int | None = None) -> list[dict]:
    """The alerts stream, oldest first, decoded: event, alert_id, ts, by (acknowledgements), alert (dict), id."""
    events = []
    for entry_id, fields in client.xrange(keys.alerts, count=count):
        event = {name.decode(): value.decode() for name, value in fields.items()}
        event["id"] = entry_id.decode()
        event["ts"] = int(event["ts"])
        event["alert"] = orjson.loads(event["alert"])
        events.append(event)
    return events


def apply_diff(client: redis.Redis, keys: Keys, raised: list[Alert], resolved: list[Alert], now_ms: int,
               **options) -> Applied:
    """One-off form of AlertStore.apply (a long-running process keeps an AlertStore)."""
    return AlertStore(client, keys, **options).apply(raised, resolved, now_ms)


# --- Acknowledge all of one kind ----------------------------------------------

MAX_BULK = 500  # more than a screen can show; a longer list is a bug or a forged request


@dataclass(frozen=True)
class BulkAcknowledged:
    """What "acknowledge all of this kind" did: the alerts acknowledged now, and those it left alone
    (already acknowledged by someone, with who; or no longer open), so the screen can say so."""

    kind: str
    acknowledged: list[Alert]
    already: dict[str, str]  # alert id -> who acknowledged it first
    not_open: list[str]

    def summary(self) -> str:
        parts = [f"{len(self.acknowledged)} {self.kind.replace('_', ' ')} alert"
                 f"{'' if len(self.acknowledged) == 1 else 's'} acknowledged"]
        if self.already:
            parts.append(f"{len(self.already)} already acknowledged (by {', '.join(sorted(set(self.already.values())))})")
        if self.not_open:
            parts.append(f"{len(self.not_open)} already resolved")
        return "; ".join(parts)


def acknowledge_kind(client: redis.Redis, keys: Keys, kind: str, supervisor_id: str, now_ms: int, *,
                     alert_ids: list[str] | None = None, live_maxlen: int = Settings.live_maxlen,
                     retention_ms: int = Settings().retention_ms, origin: str = INTERNAL_ORIGIN) -> BulkAcknowledged:
    """Acknowledge every open, unacknowledged alert of `kind` (or only `alert_ids`, the ones the screen
    showed: a supervisor acknowledges what they saw, not what arrived a millisecond later).

    One WATCH/MULTI transaction, like `acknowledge`: all of them or none, never one the watcher resolved
    meanwhile. One audit entry per alert acknowledged (same action and target as a single
    acknowledgement, with `bulk` = how many went together), so the trail for one alert reads the same
    whichever button was used. Raises AlertError if nothing was left to acknowledge (audited as refused).
    """
    def step(pipe: redis.client.Pipeline) -> BulkAcknowledged:
        wanted = _bulk_targets(kind, alert_ids)
        stored = read_open_alerts(pipe, keys)
        candidates = [a for a in stored.values() if a.kind.value == kind and (wanted is None or a.alert_id in wanted)]
        already = {a.alert_id: a.acknowledged_by or "?" for a in candidates
                   if a.state is rules.AlertState.ACKNOWLEDGED}
        todo = sorted((a for a in candidates if a.alert_id not in already), key=lambda a: a.alert_id)
        not_open = sorted(wanted - set(stored)) if wanted is not None else []
        done = [rules.acknowledge(alert, supervisor_id, now_ms) for alert in todo]
        result = BulkAcknowledged(kind, done, already, not_open)
        if not done:
            raise AlertError(f"Nothing to acknowledge: {result.summary()}")
        jsons = {alert.alert_id: alert.model_dump_json() for alert in done}
        pipe.multi()
        pipe.hset(keys.alerts_open, mapping=jsons)
        minid = max(0, now_ms - retention_ms)
        for alert_id, json in jsons.items():
            pipe.xadd(keys.alerts, {"event": "acknowledged", "alert_id": alert_id, "ts": now_ms, "by": supervisor_id,
                                    "alert": json}, minid=minid, approximate=True)
        pipe.xadd(keys.live, {"alerts": "[" + ",".join(jsons.values()) + "]"}, maxlen=live_maxlen, approximate=True)
        for alert in done:
            record(pipe, keys, make_entry(ts=now_ms, actor=supervisor_id, role=AuditRole.SUPERVISOR,
                                          action=Action.ALERT_ACKNOWLEDGED, target=alert.alert_id, origin=origin,
                                          details={"kind": kind, "unit_id": alert.unit_id, "bulk": len(done)}))
        return result

    with refusal_audited(client, keys, AlertError, ts=now_ms, actor=supervisor_id, role=AuditRole.SUPERVISOR,
                         action=Action.ALERT_ACKNOWLEDGED, target=f"kind:{str(kind)[:40]}", origin=origin):
        return client.transaction(step, keys.alerts_open, value_from_callable=True)


def _bulk_targets(kind: str, alert_ids: list[str] | None) -> set[str] | None:
    if kind not in {k.value for k in AlertKind}:
        raise AlertError(f"unknown alert kind {str(kind)[:40]!r}: expected one of "
                         f"{', '.join(k.value for k in AlertKind)}")
    if alert_ids is None:
        return None
    if len(alert_ids) > MAX_BULK:
        raise AlertError(f"too many alerts at once ({len(alert_ids)}, at most {MAX_BULK})")
    wrong = [a for a in alert_ids if not isinstance(a, str) or not a.startswith(kind + ":")]
    if wrong:
        raise AlertError(f"{len(wrong)} alert id(s) are not of kind {kind}")
    return set(alert_ids)


# --- Escalation ---------------------------------------------------------------------------------

def escalate(client: redis.Redis, keys: Keys, alerts: list[Alert], now_ms: int, *,
             live_maxlen: int = Settings.live_maxlen, retention_ms: int = Settings().retention_ms) -> list[str]:
    """Store alerts from domain.alerts.escalations in place of their open versions, one WATCH/MULTI step.

    Only an alert still open and stored at a lower severity is changed, so a second watcher, or one
    retrying, records each escalation once, and an alert resolved meanwhile is not resurrected. Each
    goes on the alerts stream as `escalated` and to the screens as a live delta. Returns the ids changed."""
    if not alerts:
        return []

    def step(pipe: redis.client.Pipeline) -> list[str]:
        stored = read_open_alerts(pipe, keys)
        changed = [alert for alert in alerts if alert.alert_id in stored
                   and rules.SEVERITY_RANK[alert.severity] < rules.SEVERITY_RANK[stored[alert.alert_id].severity]]
        if not changed:
            return []
        jsons = {alert.alert_id: alert.model_dump_json() for alert in changed}
        pipe.multi()
        pipe.hset(keys.alerts_open, mapping=jsons)
        for alert_id, json in jsons.items():
            pipe.xadd(keys.alerts, {"event": "escalated", "alert_id": alert_id, "ts": now_ms, "alert": json},
                      minid=max(0, now_ms - retention_ms), approximate=True)
        pipe.xadd(keys.live, {"alerts": "[" + ",".join(jsons.values()) + "]"}, maxlen=live_maxlen, approximate=True)
        return sorted(jsons)

    return client.transaction(step, keys.alerts_open, value_from_callable=True)
