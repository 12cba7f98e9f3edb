"""Serve the web app with Waitress on a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from waitress.server import create_server

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, app: Callable, host: str, port: int, threads: int = 8):
        # Short requests only (the live view polls a JPEG), so a few threads serve many tabs.
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     ident="affectra", clear_untrusted_proxy_headers=True,
                                     max_request_body_size=1 << 20)  # no upload is bigger
        self.port = self._server.effective_port
        self.host = host
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("web UI on http://%s:%s", "127.0.0.1" if self.host in ("0.0.0.0", "")
                 else self.host, self.port)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout_s: float = 5.0) -> None:
        self._server.close()
        self._thread.join(timeout_s)
