"""Serve the web app with Waitress on a thread of its own."""

from __future__ import annotations

import logging
import socket
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
        if self.host in ("0.0.0.0", "::", ""):  # every address: say how the LAN reaches it
            log.info("web UI on port %s of every address of this box: http://%s:%s from "
                     "the LAN, http://127.0.0.1:%s on the box", self.port,
                     socket.gethostname(), self.port, self.port)
        else:
            log.info("web UI on http://%s:%s", f"[{self.host}]" if ":" in self.host
                     else self.host, self.port)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout_s: float = 5.0) -> None:
        self._server.close()
        self._thread.join(timeout_s)
