"""Shared helpers: videos made from real photos, and running the `affectra` command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from affectra_edge.cameras.scene import Appearance, render

ROOT = Path(__file__).resolve().parent.parent


def write_video(path: Path, appearances: list[Appearance], duration_s: float,
                fps: float = 15.0, size: tuple[int, int] = (640, 480)) -> Path:
    """An MJPEG AVI of a scripted scene of real face photos."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG AVI here"
    for index in range(round(duration_s * fps)):
        writer.write(render(appearances, index / fps, *size))
    writer.release()
    return path


def affectra_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("AFFECTRA_CONFIG", None)
    return env


def run_affectra(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affectra_edge", *args], capture_output=True,
                          text=True, timeout=timeout, env=affectra_env())


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir(mode=0o750)
    return path


def wait_until(predicate, timeout_s: float, what: str):
    """Poll ``predicate`` until it returns something true; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
