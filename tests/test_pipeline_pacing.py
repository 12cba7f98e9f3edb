"""The analyzer's frame-rate cap (RateGate), fed camera timestamps with jitter."""

from __future__ import annotations

import random

import pytest

from affectra_edge.pipeline import RateGate


def admitted_per_s(camera_fps: float, max_fps: float, jitter_s: float, seconds: float = 60):
    rng = random.Random(7)
    gate = RateGate(max_fps)
    times = [i / camera_fps + rng.uniform(-jitter_s, jitter_s)
             for i in range(int(seconds * camera_fps))]
    return sum(gate.admit(t) for t in sorted(times)) / seconds


def test_a_camera_at_the_cap_loses_no_frame_to_jitter():
    # 30 fps with +-4 ms of jitter: a plain "at least 1/30 s since the last frame" rule
    # dropped about a third of these frames.
    assert admitted_per_s(30, 30, 0.004) == pytest.approx(30, abs=0.05)


@pytest.mark.parametrize("camera_fps", [40, 60, 120])
def test_a_faster_camera_is_thinned_to_the_cap(camera_fps):
    # Frames come in steps of 1/camera_fps, so the cap is met from below, never passed.
    assert 0.9 * 30 <= admitted_per_s(camera_fps, 30, 0.002) <= 30.02


def test_a_slower_camera_is_left_alone():
    assert admitted_per_s(10, 30, 0.01) == pytest.approx(10, abs=0.05)
