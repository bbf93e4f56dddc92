"""The review app served for real (uvicorn on 127.0.0.1, an ephemeral port, a daemon thread),
for the browser tests and the documentation's screenshots."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from types import TracebackType

from formalize.corpus import Store
from formalize.review.app import ReviewSettings, create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``with LiveServer(store, settings) as server: server.url``."""

    def __init__(self, store: Store, settings: ReviewSettings | None = None) -> None:
        import uvicorn

        port = free_port()
        self.settings = dataclasses.replace(settings or ReviewSettings(), port=port)
        app = create_app(store, self.settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the review server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
