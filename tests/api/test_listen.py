"""`trueup serve --workers N` listens on a socket marked as TCP, so that asyncio sets TCP_NODELAY
on every connection the workers accept (else each kept-alive answer waits ~40 ms for an ACK)."""

from __future__ import annotations

import asyncio
import socket

from trueup.api.listen import Config


def test_the_workers_socket_is_tcp_and_its_connections_send_at_once() -> None:
    sock = Config("trueup.api.server:app", host="127.0.0.1", port=0, workers=2).bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()

        async def accept_one() -> int:
            accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

            def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                conn = writer.get_extra_info("socket")
                accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                writer.close()

            server = await asyncio.start_server(connected, sock=sock)
            async with server:
                _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
                nodelay = await asyncio.wait_for(accepted, 10)
                writer.close()
            return nodelay

        assert asyncio.run(accept_one()) != 0
    finally:
        sock.close()


def test_uvicorns_own_socket_would_not_be() -> None:
    """The reason for `Config`: if uvicorn fixes this, the override can go."""
    import uvicorn

    sock = uvicorn.Config("trueup.api.server:app", host="127.0.0.1", port=0, workers=2).bind_socket()
    try:
        assert sock.proto != socket.IPPROTO_TCP
    finally:
        sock.close()
