"""The review app served for real (uvicorn on 127.0.0.1, an ephemeral port, a daemon thread),
for the browser tests and the documentation's screenshots."""

from __future__ import annotations

import dataclasses
import threading
import time
from types import TracebackType

from formalize.corpus import Store
from formalize.review.app import ReviewSettings, create_app
from formalize.review.port import bind


class LiveServer:
    """``with LiveServer(store, settings) as server: server.url``."""

    def __init__(self, store: Store, settings: ReviewSettings | None = None) -> None:
        import uvicorn

        # bound here and handed to uvicorn: no other process can take the port in between
        self.socket = bind("127.0.0.1", 0)
        port = int(self.socket.getsockname()[1])
        self.settings = dataclasses.replace(settings or ReviewSettings(), port=port)
        app = create_app(store, self.settings)
        config = uvicorn.Config(app, log_level="warning")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the review server did not start (within 120 s)")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.socket.close()
