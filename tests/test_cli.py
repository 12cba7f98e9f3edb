"""The `affectra` command's analyze and stats, run as real processes on real photos."""

import json
from datetime import UTC, datetime, timedelta

import cv2

from affectra_edge.cameras.scene import Appearance, photo_path, static_scene
from affectra_edge.records import SessionRecord
from affectra_edge.storage import SessionStore
from tests.conftest import run_affectra, write_video


def test_analyze_a_photo_finds_the_smiling_face(tmp_path):
    result = run_affectra("analyze", str(photo_path("astronaut.png")), "--json")
    assert result.returncode == 0, result.stderr
    frame = json.loads(result.stdout.strip().splitlines()[-1])
    (face,) = frame["faces"]
    x, y, w, h = face["box"]
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 180  # the astronaut's face
    assert face["top_emotion"] == "happy"
    assert abs(sum(face["probabilities"].values()) - 1) < 0.01


def test_analyze_text_output_for_three_faces(tmp_path):
    photo = tmp_path / "three.png"
    cv2.imwrite(str(photo), static_scene(3))
    result = run_affectra("analyze", str(photo))
    assert result.returncode == 0, result.stderr
    assert "3 face(s)" in result.stdout
    assert result.stdout.count(": happy (") == 3


def test_analyze_a_video_lists_the_sessions_it_would_record(tmp_path):
    scene = [Appearance(0.5, 4.0, 0.3, 0.5, 140), Appearance(5.0, 5.1, 0.6, 0.5, 140)]
    video = write_video(tmp_path / "v.avi", scene, 6.0, fps=10)
    result = run_affectra("analyze", str(video), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    frames = [line for line in lines if "frame" in line]
    sessions = [line for line in lines if "session" in line]
    assert len(frames) == 60
    assert [len(f["faces"]) for f in frames[10:35]] == [1] * 25
    assert len(sessions) == 1
    assert abs(sessions[0]["start_s"] - 0.5) <= 0.15
    assert abs(sessions[0]["duration_s"] - 3.4) <= 0.3
    assert sessions[0]["dominant_emotion"] == "happy"


def test_analyze_bad_input_is_one_clear_line_and_exit_2(tmp_path):
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 200)
    cases = {corrupt: "cannot decode the image", tmp_path / "missing.mp4": "no such file",
             tmp_path: "not a file"}
    garbage_video = tmp_path / "garbage.mp4"
    garbage_video.write_bytes(b"definitely not a video" * 50)
    cases[garbage_video] = "cannot open as a video"
    for path, message in cases.items():
        result = run_affectra("analyze", str(path))
        assert result.returncode == 2, (path, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.startswith("affectra:")]
        assert errors == [f"affectra: error: {path}: {message}" + errors[0].split(message)[1]]
        assert result.stdout == ""


def make_record(ended: datetime, emotion: str, duration_s: float) -> SessionRecord:
    shares = {e: 0.0 for e in ("angry", "disgust", "fear", "happy", "sad", "surprise",
                               "neutral")}
    shares[emotion] = 100.0
    return SessionRecord(f"id-{ended.timestamp()}", "demo", ended - timedelta(seconds=duration_s),
                         ended, duration_s, int(duration_s * 15), emotion, shares)


def test_stats_command_reads_the_state_dir(state_dir):
    now = datetime.now(UTC)
    store = SessionStore(state_dir / "sessions", 365)
    records = [make_record(now - timedelta(seconds=i), emotion, 10.0 + i)
               for i, emotion in enumerate(["happy", "happy", "sad"])]
    records.append(make_record(now - timedelta(days=3), "fear", 4.0))
    for record in records:
        store.append(record)
    result = run_affectra("stats", "--state-dir", str(state_dir), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["sessions_total"] == 4
    assert stats["sessions_today"] == sum(r.ended_at.date() == now.date() for r in records)
    assert stats["top_emotion"] == "happy"
    text = run_affectra("stats", "--state-dir", str(state_dir))
    assert text.returncode == 0 and "happy" in text.stdout


def test_stats_on_a_missing_state_dir_is_exit_2(tmp_path):
    result = run_affectra("stats", "--state-dir", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such directory" in result.stderr
