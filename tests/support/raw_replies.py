"""What raw replies must look like on either client (tests/store and tests/cluster share it)."""

from __future__ import annotations

from dispatch.store.raw_replies import raw_client


def assert_raw_replies(client, key: str) -> None:
    """XRANGE alone and XLEN + XREVRANGE in a pipeline answer nested lists of bytes, no dict per entry."""
    entry_id = client.xadd(key, {"a": "1"})
    raw = raw_client(client)
    assert raw.execute_command("XRANGE", key, "-", "+") == [[entry_id, [b"a", b"1"]]]
    pipe = raw.pipeline(transaction=False)
    pipe.xlen(key)
    pipe.execute_command("XREVRANGE", key, "+", "-", "COUNT", 1)
    assert pipe.execute() == [1, [[entry_id, [b"a", b"1"]]]]
