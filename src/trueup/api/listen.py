"""Start uvicorn on `trueup.api.server:app`, with one or more worker processes.

With more than one worker, uvicorn binds the listening socket itself with protocol 0, and asyncio
sets TCP_NODELAY only on connections accepted from a socket whose protocol is TCP: every answer on
a kept-alive connection then waits for the client's delayed acknowledgement, about 40 ms on Linux
(uvicorn issue #3149). `Config` below marks the socket as TCP, so the workers' connections answer
at once, as a single worker's do.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

APP = "trueup.api.server:app"


class Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def run(host: str, port: int, workers: int = 1, app: str = APP, factory: bool = False) -> None:
    """Serve `app` (an import string) until interrupted; quiet apart from warnings (no access log)."""
    config = Config(app, host=host, port=port, workers=workers, factory=factory, log_level="warning",
                    access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:  # it could not listen (uvicorn said why)
        raise SystemExit(STARTUP_FAILURE)
