"""One batch's atomic step and the read of a later batch, sent together without waiting (issue 15).

While Redis runs batch N's step, the worker plans batch N+1, already read: on this machine's two cores,
Python and redis-server then work at once instead of in turn. Nothing about a step changes: it is the
IngestScript's own EVALSHA, and what makes it safe to kill a worker at any instant still holds, since every
batch read and not yet applied is simply pending for this consumer, as between a read and its step today.
Redis runs one connection's commands in order, so the steps run in the order of their batches, each batch's
entries in stream order. Replies come back raw (nested lists of bytes): `batch.plan_rows` reads them with no
per-entry parsing by redis-py.

A single server's connection, or on a cluster the connection of the node holding the site's slot (all the
site's keys share one hash tag); a MOVED reply is a server refusal like any other: the worker backs off,
and its cluster client, used for everything else, finds the new owner.
"""

from __future__ import annotations

import redis
import redis.cluster
from redis.exceptions import ResponseError

try:  # what redis-py packs with when hiredis is installed (requirements.txt), minus its per-argument pass
    from hiredis import pack_command
except ImportError:  # pragma: no cover
    pack_command = None

from ..domain.batch import BatchPlan, RawEntry, row_fields
from ..keys import INGEST_GROUP, Keys
from .connection import Undecided
from .scripts import IngestScript


class StepPipe:
    """A connection held for one drain of the backlog; use it as a context manager."""

    def __init__(self, client, keys: Keys, script: IngestScript, consumer: str, group: str = INGEST_GROUP):
        if isinstance(client, Undecided):
            client = client.current()
        if isinstance(client, redis.cluster.RedisCluster):
            client = client.get_redis_connection(client.get_node_from_key(keys.in_telemetry))
        self._pool = client.connection_pool
        self._script = script
        self._kinds = {stream.encode(): kind for kind, stream in keys.inputs.items()}
        self._read = ["XREADGROUP", "GROUP", group, consumer, "COUNT", 0, "STREAMS",
                      *keys.inputs.values(), *(">" for _ in keys.inputs)]
        self._connection = None
        self._sent: list[str] = []

    def __enter__(self) -> "StepPipe":
        self._connection = self._pool.get_connection()
        return self

    def __exit__(self, *exc) -> None:
        if self._sent:  # replies not read: the connection is out of step, never reuse it
            self._connection.disconnect()
        self._pool.release(self._connection)

    def read(self, count: int) -> list[tuple[str, list]]:
        """New entries, at most `count` per stream, not blocking: (kind, [[id, fields], ...]) per stream."""
        self._send(None, count)
        return self.receive()[1]

    def send(self, plan: BatchPlan | None, read_count: int | None) -> None:
        """Send the plan's step (if any), then a read of `read_count` (if any); `receive` gets both replies."""
        self._send(plan, read_count)

    def receive(self) -> tuple[object, list[tuple[str, list]]]:
        """(the step's reply, or the ResponseError it raised; the entries read, or [])."""
        outcome, rows = None, []
        while self._sent:
            what = self._sent[0]
            try:
                reply = self._connection.read_response()
            except ResponseError as error:
                reply = error
            self._sent.pop(0)
            if what == "step":
                outcome = reply
            elif isinstance(reply, ResponseError):  # the read is sent last: nothing left to receive
                raise reply
            else:
                streams = reply.items() if isinstance(reply, dict) else reply or ()  # RESP3: a map
                rows = [(self._kinds[stream], messages) for stream, messages in streams]
        return outcome, rows

    def _send(self, plan: BatchPlan | None, read_count: int | None) -> None:
        assert not self._sent, "replies of the last send not received"
        commands, sent = [], []
        if plan is not None:
            commands.append(self._script.command(plan))
            sent.append("step")
        if read_count:
            self._read[5] = read_count
            commands.append(list(self._read))
            sent.append("read")
        self._sent = sent
        if pack_command is not None:  # the arguments are str, bytes and int only: nothing to convert
            packed = [b"".join(pack_command(tuple(command)) for command in commands)]  # one write
        else:
            packed = self._connection.pack_commands(commands)
        self._connection.send_packed_command(packed)


def entries_of(rows: list[tuple[str, list]]) -> list[RawEntry]:
    """The RawEntry values streams.read_group would have made of these rows (for the worker's other paths)."""
    return [RawEntry(kind, raw_id.decode(), row_fields(flat)) for kind, messages in rows for raw_id, flat in messages]


def size(rows: list[tuple[str, list]]) -> int:
    return sum(len(messages) for _, messages in rows)
