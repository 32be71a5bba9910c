"""The ingest worker: input streams -> validated picture, live deltas, dead letters.

`python -m dispatch ingest` (a Procfile process). Run as many as you like: they
share the work through the "ingest" consumer group. Each batch is judged by the
pure `plan_batch` and applied by one atomic Redis script, so a worker can be
killed at any instant without losing or duplicating anything.

The loop, in order of priority: own pending entries (after a restart), entries
a dead consumer left behind (XAUTOCLAIM, every claim interval), new entries.
The same sweep removes consumers idle past DISPATCH_CONSUMER_IDLE_REMOVE_S once
nothing is pending on them, so crashed workers do not pile up in the group.
Redis going away is waited out with capped exponential backoff; a consumer group
lost with an unpersisted Redis is recreated.

If the atomic step fails on a batch for a reason nobody foresaw, nothing of that
batch was acknowledged (the script acks last): the batch is bisected until the
entry at fault is found, and only that entry is dead-lettered (`step-failed`).

A read that comes back full means a backlog: it is drained with each batch's step
sent together with the read of the batch after next, and the next batch planned
while Redis runs the step (DISPATCH_INGEST_OVERLAP; store/ingest_pipe.py). Every
batch read but not yet applied is pending for this consumer, so a kill at any
instant still loses and doubles nothing. A batch with sighting entries is applied
alone, after the step before it: its plan reads the stored sightings.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time

import redis

from ..domain.backoff import Backoff
from ..domain.batch import BatchPlan, RawEntry, plan_batch, reject, split_at_ends
from ..domain.validate import ClockLimits
from ..keys import Keys
from . import process
from ..settings import Settings
from ..domain.batch import plan_rows
from ..store import ingest_pipe, streams
from ..store.connection import RETRYABLE, connect
from ..store.scripts import IngestScript, sighting_reporters

log = logging.getLogger("dispatch.services.ingest")


class IngestWorker:
    def __init__(self, settings: Settings, consumer: str | None = None):
        self.settings = settings
        self.keys = Keys(settings.site)
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.client = connect(settings.redis_url, blocking_ms=settings.ingest_block_ms)
        self.apply_plan = IngestScript(self.client, self.keys, live_maxlen=settings.live_maxlen)
        self.limits = ClockLimits(
            max_future_ms=int(settings.max_future_s * 1000), max_past_ms=int(settings.max_past_s * 1000)
        )
        self.processed = 0
        self._next_claim = 0.0
        # A consumer is presumed dead no sooner than its entries would be taken over.
        self._remove_idle_ms = max(int(settings.consumer_idle_remove_s * 1000), settings.claim_idle_ms)
        self._backoff = Backoff()
        self._stop = threading.Event()

    def run(self, stop: threading.Event) -> None:
        log.info("ingest consumer %s on site %s", self.consumer, self.settings.site)
        self._stop = stop
        recovered = False
        while not stop.is_set():
            try:
                if not recovered:
                    streams.ensure_groups(self.client, self.keys)
                    self._drain_own_pending()
                    recovered = True
                self._step()
                self._backoff.succeeded()
            except RETRYABLE as error:
                recovered = False
                process.wait_after_error(stop, self._backoff,
                                         f"Redis unavailable ({error.__class__.__name__}: {error})", log)
            except redis.ResponseError as error:
                recovered = False
                if streams.is_missing_group(error):
                    log.warning("consumer group missing (Redis restarted without persistence?): recreating")
                else:
                    # Not one entry's fault (those are bisected away): Redis refuses the work itself
                    # (out of memory, a replica, a broken key). Entries stay pending; try again later.
                    process.wait_after_error(stop, self._backoff, f"Redis refused the step ({error})", log)

    def _step(self) -> None:
        now = time.monotonic()
        if now >= self._next_claim:
            self._next_claim = now + self.settings.claim_idle_ms / 1000 / 2
            claimed, trimmed = streams.claim_stale(
                self.client, self.keys, self.consumer,
                min_idle_ms=self.settings.claim_idle_ms, count=self.settings.ingest_batch,
            )
            if claimed or trimmed:
                log.info("took over %d entries left pending by another consumer", len(claimed) + trimmed)
                self._process(self._isolate_poison(claimed))
            if trimmed:
                self._drain_own_pending()
            removed = streams.remove_idle_consumers(
                self.client, self.keys, min_idle_ms=self._remove_idle_ms, keep=self.consumer,
            )
            if removed:
                log.info("removed %d idle consumers with nothing pending: %s", len(removed), ", ".join(removed))
        entries = streams.read_group(
            self.client, self.keys, self.consumer,
            count=self.settings.ingest_batch, block_ms=self.settings.ingest_block_ms,
        )
        if entries:
            self._process(entries)
            if self.settings.ingest_overlap and len(entries) >= self.settings.ingest_batch:
                self._drain_backlog()

    def _drain_backlog(self) -> None:
        """Batches until a read comes back short, each step overlapped with planning the next batch.

        In each turn Redis runs the step of `current` and reads `further` while this process plans
        `following`, read in the turn before. Left (its batches in hand applied first) when the claim sweep
        is due or the worker is asked to stop."""
        count = self.settings.ingest_batch
        with ingest_pipe.StepPipe(self.client, self.keys, self.apply_plan, self.consumer) as pipe:
            current, plan, following = None, None, pipe.read(count)
            while True:
                if current is None:
                    current, following = following, []
                    if not current:
                        return
                    plan = self._plan_alone(current)
                    if plan is None:
                        self._process(ingest_pipe.entries_of(current))
                        following = pipe.read(count) if self._go_on(current) else []
                        current = None
                        continue
                    following = pipe.read(count) if self._go_on(current) else []
                if not following:
                    self._settle(current, plan, None)
                    return
                pipe.send(plan, count if self._go_on(following) else None)
                next_plan = self._plan_alone(following)
                outcome, further = pipe.receive()
                self._settle(current, plan, outcome)
                if next_plan is None:
                    self._process(ingest_pipe.entries_of(following))
                    current, following = None, further
                else:
                    current, plan, following = following, next_plan, further

    def _go_on(self, rows) -> bool:
        """Read another batch after these? Only on a backlog, and not past the claim sweep or a stop."""
        return (ingest_pipe.size(rows) >= self.settings.ingest_batch and not self._stop.is_set()
                and time.monotonic() < self._next_claim)

    def _plan_alone(self, rows):
        """The plan of a batch read raw, or None if it must wait for the step before it: sightings (their
        plan reads the stored ones, and an operator's end may cut the batch)."""
        if any(kind == "sighting" and messages for kind, messages in rows):
            return None
        return plan_rows(rows, self.limits, self.settings.timezone)

    def _settle(self, rows, plan, outcome) -> None:
        """Finish a planned batch given its step's outcome (None: not sent yet, apply it now)."""
        if outcome is None:
            try:
                outcome = self.apply_plan(plan)
            except redis.ResponseError as error:
                outcome = error
        if isinstance(outcome, redis.exceptions.NoScriptError):  # Redis restarted: nothing was applied
            self.apply_plan(plan)  # loads the script
        elif isinstance(outcome, redis.ResponseError):
            if not streams.is_entry_failure(outcome):
                raise outcome
            self._apply(ingest_pipe.entries_of(rows))  # bisects to the entry at fault
        elif plan.rejected:
            log.info("rejected %d of %d entries (see %s)", len(plan.rejected), plan.size, self.keys.deadletter)
        self.processed += ingest_pipe.size(rows)

    def _drain_own_pending(self) -> None:
        """Finish what this consumer holds but has not acked: after a restart, or a takeover."""
        while True:
            entries = streams.read_group(
                self.client, self.keys, self.consumer, count=self.settings.ingest_batch,
                block_ms=None, pending=True,
            )
            if not entries:
                return
            self._process(self._isolate_poison(entries))

    def _isolate_poison(self, entries: list[RawEntry]) -> list[RawEntry]:
        """Entries delivered max_deliveries times without success are dead-lettered, not retried."""
        counts = streams.delivery_counts(self.client, self.keys, entries)
        poison = [e for e in entries if counts.get(e.entry_id, 0) > self.settings.max_deliveries]
        if poison:
            plan = BatchPlan(rejected=[
                reject(e, f"poison: delivered {counts[e.entry_id]} times without being processed") for e in poison
            ])
            self.apply_plan(plan)
            log.error("dead-lettered %d poison entries", len(poison))
        poison_ids = {e.entry_id for e in poison}
        return [e for e in entries if e.entry_id not in poison_ids]

    def _process(self, entries: list[RawEntry]) -> None:
        for batch in split_at_ends(entries):  # an operator's end is applied before what follows it
            self._apply(batch)
        self.processed += len(entries)

    def _apply(self, entries: list[RawEntry]) -> None:
        """One atomic step for the batch; if it fails, bisect to the entry at fault.

        A failed step acknowledged nothing, so each half can be applied again:
        about 2 log2(n) extra steps per culprit, on a path that should never run.
        """
        reported_by = sighting_reporters(self.client, self.keys, entries)
        plan = plan_batch(entries, self.limits, self.settings.timezone, reported_by=reported_by)
        try:
            self.apply_plan(plan)
        except redis.ResponseError as error:
            if not streams.is_entry_failure(error):
                raise
            if len(entries) > 1:
                half = len(entries) // 2
                self._apply(entries[:half])
                self._apply(entries[half:])
                return
            (culprit,) = entries
            log.error("step failed on entry %s of %s: dead-lettered (%s)", culprit.entry_id, culprit.kind, error)
            self._dead_letter(culprit, f"step-failed: {error}")
            return
        if plan.rejected:
            log.info("rejected %d of %d entries (see %s)", len(plan.rejected), len(entries), self.keys.deadletter)

    def _dead_letter(self, entry: RawEntry, reason: str) -> None:
        """Dead-letter one entry; if even its bounded copy cannot be written, without its fields."""
        try:
            self.apply_plan(BatchPlan(rejected=[reject(entry, reason)]))
        except redis.ResponseError as error:
            if not streams.is_entry_failure(error):
                raise
            bare = RawEntry(entry.kind, entry.entry_id, {})
            self.apply_plan(BatchPlan(rejected=[reject(bare, f"{reason}; fields not kept: {error}")]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumer", help="consumer name in the group (default: host-pid)")
    args = parser.parse_args(argv)
    settings = process.start("ingest")
    if settings is None:
        return 2
    stop = process.stop_event()
    worker = IngestWorker(settings, consumer=args.consumer)
    worker.run(stop)
    log.info("ingest stopped after %d entries", worker.processed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
