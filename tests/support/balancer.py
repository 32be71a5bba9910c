"""A round-robin TCP load balancer for tests: what HAProxy or nginx `stream {}` do in front of gateways.

Layer 4 only (it never looks at the bytes: websockets, TLS or anything else pass through), no sticky
sessions: connection n goes to backend n mod N, and a backend that refuses the connection (a gateway
killed, not yet restarted) is skipped for the next one, as HAProxy's `option redispatch` or nginx's
`proxy_next_upstream` do. It runs its own event loop in a thread so that synchronous tests can use it,
and remembers where each client landed (by the client's local port) so that tests can tell.
"""

from __future__ import annotations

import asyncio
import threading

from dispatch.store.embedded import free_port

CONNECT_TIMEOUT_S = 2.0


class Balancer:
    def __init__(self, backends: list[int], host: str = "127.0.0.1", port: int | None = None):
        self.backends = list(backends)
        self.host = host
        self.port = port or free_port()
        self.routes: dict[int, int] = {}  # client's port (as seen here) -> backend port it was given
        self._turn = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="balancer", daemon=True)
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/live"

    def start(self) -> "Balancer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=5)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def backend_of(self, client_port: int) -> int:
        """The backend port a client (known by its local port) was sent to."""
        return self.routes[client_port]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, backlog=4096)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            upstream = await self._open_backend()
            if upstream is None:  # every backend refused: as a balancer with no healthy server, hang up
                client_writer.close()
                return
            backend, (backend_reader, backend_writer) = upstream
            self.routes[client_writer.get_extra_info("peername")[1]] = backend
            await asyncio.gather(_pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer))
        except asyncio.CancelledError:
            client_writer.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _open_backend(self):
        for _ in range(len(self.backends)):
            backend = self.backends[self._turn % len(self.backends)]
            self._turn += 1
            try:
                streams = await asyncio.wait_for(asyncio.open_connection(self.host, backend), CONNECT_TIMEOUT_S)
            except (OSError, asyncio.TimeoutError):
                continue  # down: the next one (redispatch)
            return backend, streams
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until it ends, then end the other side too (a backend that died closes its
    clients' connections, and the clients reconnect through the balancer)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:  # reset by one side: reset the other
        writer.transport.abort()
    else:
        writer.close()
