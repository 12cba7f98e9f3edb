"""What the web handlers may see of the running daemon: snapshots and small actions only.

Handlers never run inference or wait on a camera: they read the latest annotated JPEG, the
cached statistics and the camera statuses, and change the camera store (whose listener
restarts pipelines in the background).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from affectra_edge.config import Config
from affectra_edge.webapp.auth import Accounts, LoginLimiter, Sessions

if TYPE_CHECKING:
    from affectra_edge.daemon import Daemon


@dataclass
class WebContext:
    config: Config
    daemon: Daemon
    accounts: Accounts
    sessions: Sessions
    limiter: LoginLimiter
    assets_dir: Path

    def page_values(self, page: str) -> dict:
        if page == "live":
            cameras = [{"id": c.id, "kind": c.camera.kind} for c in self.daemon.cameras.list()
                       if c.enabled]
            return {"cameras": cameras, "selected": self.daemon.cameras.selected or "",
                    "live_fps": self.config.web.live_fps}
        if page == "clear":
            return {"sessions": self.daemon.store.count()}
        return {}
