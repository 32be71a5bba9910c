"""Which client connect() makes for a single server (issue 14: the cluster side is in tests/cluster)."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio

from dispatch.store import connection
from dispatch.store.connection import connect, connect_async, is_cluster
from dispatch.store.embedded import free_port
from tests.support.raw_replies import assert_raw_replies


def test_a_single_server_keeps_the_plain_client(redis_server):
    assert not is_cluster(redis_server.url)
    client = connect(redis_server.url)
    try:
        assert type(client) is redis.Redis
        assert client.ping()
    finally:
        client.close()
    assert type(connect_async(redis_server.url)) is redis.asyncio.Redis


def test_an_unreachable_server_is_taken_for_a_single_one_and_asked_again_next_time(caplog):
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not is_cluster(url, wait_s=0.3)
    assert "assuming a single server" in caplog.text
    assert url not in connection._known, "not remembered: the next connect() asks again"


def test_a_user_not_allowed_to_ask_is_told_not_guessed_at(redis_server, redis_client, site, acl_denials_expected):
    redis_client.execute_command("ACL", "SETUSER", f"{site}.mute", "reset", "on", ">pw-of-mute", "+ping")
    try:
        with pytest.raises(redis.exceptions.NoPermissionError):
            is_cluster(f"redis://{site}.mute:pw-of-mute@127.0.0.1:{redis_server.port}/0")
    finally:
        redis_client.execute_command("ACL", "DELUSER", f"{site}.mute")


def test_raw_replies_of_a_single_server_are_nested_lists(redis_client, keys):
    assert_raw_replies(redis_client, keys.live)


def test_the_async_client_of_a_single_server_works(redis_server, keys):
    async def run():
        client = connect_async(redis_server.url)
        try:
            await client.set(keys.session("x"), b"1")
            return await client.get(keys.session("x"))
        finally:
            await client.aclose()

    assert asyncio.run(run()) == b"1"


def test_a_server_down_at_connect_time_is_asked_again_once_up(tmp_path):
    """connect() never waits (a process started before its Redis keeps producing, and backs off as usual);
    its client finds out which client it needs once the server answers."""
    from dispatch.store.embedded import EmbeddedRedis

    port = free_port()
    client = connect(f"redis://127.0.0.1:{port}/0")
    assert isinstance(client, connection.Undecided)
    script = client.register_script("return redis.call('INCR', KEYS[1])")
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()
    with EmbeddedRedis(tmp_path, port=port, persistent=False):
        client._next_ask = 0.0  # no need to wait for the next question
        assert client.ping()
        assert type(client.current()) is redis.Redis
        assert script(keys=["{t}:n"]) == 1 and script(keys=["{t}:n"]) == 2
    client.close()
