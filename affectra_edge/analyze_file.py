"""``affectra analyze``: faces and emotions in a photo, or per frame of a video.

For a video the frames are timed by their position in the file (not the wall clock), and the
sessions the daemon would record are listed at the end, with times from the video's start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2

from affectra_edge.cameras.base import SourceError
from affectra_edge.cameras.file import IMAGE_SUFFIXES, FileSource
from affectra_edge.config import Config
from affectra_edge.sessions import SessionTracker
from affectra_edge.vision.analyzer import Analyzer, FaceResult, build_analyzer


class InputError(Exception):
    """The file cannot be analysed; the message names it and says why."""


def analyze_path(path: Path, config: Config, as_json: bool = False) -> Iterator[str]:
    """Lines of output; raises InputError before the first line for a bad file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"{path}: cannot decode the image (corrupt or not an image)")
        analyzer = _analyzer(config, classify_every_frame=True)
        return iter(_frame_lines(0, 0.0, analyzer.analyze(image, 0.0).faces, as_json))
    source = FileSource(path, loop=False)
    try:
        source.open()
    except SourceError as exc:
        raise InputError(str(exc)) from None
    return _analyze_video(source, config, as_json)


def _analyzer(config: Config, classify_every_frame: bool = False) -> Analyzer:
    analyzer = build_analyzer(config.vision, config.sessions.absence_timeout_s)
    if classify_every_frame:
        analyzer.classify_interval_s = 0.0
    return analyzer


def _analyze_video(source: FileSource, config: Config, as_json: bool) -> Iterator[str]:
    try:
        yield from _video_lines(source, config, as_json)
    finally:
        source.close()


def _video_lines(source: FileSource, config: Config, as_json: bool) -> Iterator[str]:
    fps = source.info().fps
    analyzer = _analyzer(config)
    sessions = SessionTracker("file", config.sessions.min_dwell_s,
                              config.sessions.absence_timeout_s, config.vision.min_face_px,
                              config.sessions.min_frames)
    records = []
    index = 0
    while (image := source.read()) is not None:
        when = index / fps
        analysis = analyzer.analyze(image, when)
        yield from _frame_lines(index, when, analysis.faces, as_json)
        records += sessions.observe(analysis.observations(), when).ended
        index += 1
    records += sessions.close_all()
    for number, record in enumerate(records, 1):
        start = record.started_at.timestamp()
        if as_json:
            yield (json.dumps({"session": number, "start_s": round(start, 3),
                              "end_s": round(record.ended_at.timestamp(), 3),
                              "duration_s": record.duration_s, "frames": record.frames,
                              "dominant_emotion": record.dominant_emotion,
                              "shares": record.shares}))
        else:
            yield (f"session {number}: {start:.1f}-{record.ended_at.timestamp():.1f} s "
                  f"({record.duration_s:.1f} s, {record.frames} frames), mostly "
                  f"{record.dominant_emotion} ({record.shares[record.dominant_emotion]:.0f} %)")
    if not as_json:
        yield f"{index} frames, {len(records)} session(s)"


def _frame_lines(index: int, when: float, faces: list[FaceResult], as_json: bool) -> list[str]:
    if as_json:
        return [json.dumps({"frame": index, "time_s": round(when, 3),
                            "faces": [f.as_dict() for f in faces]})]
    lines = [f"frame {index} ({when:.2f} s): {len(faces)} face(s)"]
    for face in faces:
        x, y, w, h = face.box
        line = f"  face {face.track_id} at x={x} y={y} w={w} h={h}"
        if face.probabilities is not None:
            probs = ", ".join(f"{e} {p:.2f}" for e, p in face.as_dict()["probabilities"].items())
            line += f": {face.top_emotion} ({probs})"
        lines.append(line)
    return lines
