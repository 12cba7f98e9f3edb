"""`affectra run` as a real child process whose log lines a test can wait for."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import affectra_env


class DaemonProcess:
    """A running `affectra run` whose log lines the test can wait for."""

    def __init__(self, config: Path, state_dir: Path):
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "affectra_edge", "run", "--config", str(config),
             "--state-dir", str(state_dir)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=affectra_env())
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())
            self._queue.put(line)

    def wait_for(self, pattern: str, timeout_s: float) -> str:
        """The first log line that matches the regular expression ``pattern``."""
        deadline = time.monotonic() + timeout_s
        for line in self.lines:
            if re.search(pattern, line):
                return line
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no log line matches {pattern!r}; log:\n" + "\n".join(self.lines))

    def terminate(self, timeout_s: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)
