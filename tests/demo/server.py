"""The API under uvicorn in a thread on a free port of 127.0.0.1, for tests that talk to it for real."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from trueup.api import create_app
from trueup.workspace import Workspace


class Server:
    """The app under uvicorn in a thread, on a free port."""

    def __init__(self, root: Path):
        self.app = create_app(Workspace.open(root))
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="off"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.api.close()
