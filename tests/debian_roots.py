"""Throwaway Debian roots for the package tests (tests/test_deb.py): made by debootstrap once
and cached as tarballs in build/debroots/, keyed by suite, architecture, mirror and package
list; entered with chroot, or booted with systemd-nspawn as a small machine of their own.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT

BUILD = ROOT / "build"
SUITE = "bookworm"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run(*cmd: str | Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd``; a failure shows its output."""
    result = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True,
                            **kwargs)
    assert result.returncode == 0, (f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result


def in_root(root: Path, *cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}
    return run("chroot", root, *cmd, input=stdin, env=env, timeout=600)


def control_field(deb: Path, name: str) -> str:
    return run("dpkg-deb", "--field", deb, name).stdout.strip()


def depends_names(deb: Path) -> list[str]:
    """The first alternative of each Depends entry, without versions."""
    entries = control_field(deb, "Depends").split(",")
    return [re.split(r"[\s(|]", entry.strip(), maxsplit=1)[0] for entry in entries]


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses for the main suite."""
    texts = [p.read_text() for p in [Path("/etc/apt/sources.list"),
             *sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))] if p.is_file()]
    for text in texts:
        for stanza in text.split("\n\n"):  # deb822: URIs: and Suites: in one stanza
            fields = dict(re.findall(r"^(URIs|Suites):\s*(.+)$", stanza, re.MULTILINE))
            if SUITE in fields.get("Suites", "").split():
                return fields["URIs"].split()[0]
        for uri in re.findall(rf"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+{SUITE}\s", text, re.MULTILINE):
            return uri
    return "http://deb.debian.org/debian"


def root_tarball(arch: str, packages: list[str]) -> Path:
    """A minbase root of SUITE for ``arch`` with ``packages``, made once and kept as a tarball.

    A foreign architecture's root is only unpacked (its packages' files, no maintainer
    scripts): enough to run its programs under qemu."""
    mirror = debian_mirror()
    key = hashlib.sha256(f"{SUITE} {arch} minbase {mirror} {sorted(packages)}".encode())
    tarball = BUILD / "debroots" / f"{SUITE}-{arch}-{key.hexdigest()[:12]}.tar"
    if tarball.exists():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    work = tarball.with_suffix(".tmp")
    shutil.rmtree(work, ignore_errors=True)
    foreign = arch != run("dpkg", "--print-architecture").stdout.strip()
    run("debootstrap", "--variant=minbase", f"--arch={arch}", f"--include={','.join(packages)}",
        *(["--foreign"] if foreign else []), SUITE, work, mirror, timeout=900)
    archives = work / "var/cache/apt/archives"
    for deb in sorted(archives.glob("*.deb")):
        if foreign:
            run("dpkg-deb", "-x", deb, work)
        deb.unlink()
    run("tar", "-cf", f"{tarball}.part", "-C", work, ".")
    os.replace(f"{tarball}.part", tarball)
    shutil.rmtree(work)
    return tarball


def unpack_root(arch: str, deb: Path, root: Path, extra: tuple[str, ...] = ()) -> Path:
    """A fresh copy of the cached root for ``arch`` with what ``deb`` depends on, and the
    ``extra`` packages."""
    root.mkdir()
    run("tar", "-xf", root_tarball(arch, [*depends_names(deb), *extra]), "-C", root)
    return root


def file_list(root: Path) -> set[str]:
    """Every path in ``root``, relative, symlinks not followed."""
    paths = set()
    for folder, dirs, names in os.walk(root):
        rel = Path(folder).relative_to(root)
        paths.update(str(rel / name) for name in dirs + names)
    return paths


def install(root: Path, deb: Path) -> str:
    shutil.copy(deb, root / "tmp")
    result = in_root(root, "dpkg", "-i", f"/tmp/{deb.name}")
    (root / "tmp" / deb.name).unlink()
    return result.stdout + result.stderr


def passwd_entry(root: Path, user: str) -> list[str]:
    for line in (root / "etc/passwd").read_text().splitlines():
        if line.split(":")[0] == user:
            return line.split(":")
    raise AssertionError(f"no user {user} in {root}/etc/passwd")


def booted_with_systemd(root: Path) -> Path:
    """Make ``root`` look booted with systemd to the maintainer scripts (/run/systemd/system),
    with a systemctl on the PATH that only logs its arguments: a line per call in the returned
    file. (Not in /usr/bin, where deb-systemd-helper would take it for a real one and leave
    enabling to its `preset`.)"""
    (root / "run/systemd/system").mkdir(parents=True)
    calls = root / "run/systemd/systemctl-calls"
    calls.write_text("")
    stub = root / "usr/local/sbin/systemctl"
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text('#!/bin/sh\necho "$*" >>/run/systemd/systemctl-calls\n')
    stub.chmod(0o755)
    return calls


def started(calls: Path) -> list[str]:
    """The systemctl calls that would have started or restarted something."""
    return [line for line in calls.read_text().splitlines()
            if re.search(r"\b(start|restart|try-restart|reload-or-restart)\b", line)]


# ---- a root booted with systemd ------------------------------------------------------------

BOOT_PACKAGES = ("systemd", "systemd-sysv", "dbus")  # what a root needs to boot


class Container:
    """``root`` booted by systemd-nspawn: its own systemd as PID 1 and a network namespace
    with loopback only. No systemd-machined is needed (--register=no --keep-unit), so it
    runs where the machine itself is not booted with systemd."""

    def __init__(self, root: Path):
        self.root = root
        self.log_path = root.parent / "nspawn.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--directory", str(root), "--boot", "--private-network",
             "--register=no", "--keep-unit", "--console=read-only", "--quiet"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.leader = self._find_leader(timeout_s=60)
        except BaseException:
            self.stop()
            raise

    def _find_leader(self, timeout_s: float) -> int:
        """The container's PID 1, seen from here: systemd-nspawn's child."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"systemd-nspawn exited {self.process.returncode}:\n"
                                     f"{self.log_path.read_text(errors='replace')}")
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(line.split(":\t", 1) for line in
                                  status.read_text().splitlines() if ":\t" in line)
                except OSError:
                    continue
                if fields.get("PPid", "").strip() == str(self.process.pid):
                    return int(status.parent.name)
            time.sleep(0.2)
        raise AssertionError("systemd-nspawn started no container in time")

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        """``cmd`` inside the container (all its namespaces), as its root."""
        full = ["nsenter", "--target", str(self.leader), "--all", "env", f"PATH={PATH}", *cmd]
        if check:
            return run(*full, timeout=120)
        return subprocess.run(full, check=False, capture_output=True, text=True, timeout=120)

    def unit(self, name: str, *properties: str) -> dict[str, str]:
        """``systemctl show`` of ``name``: each property's value."""
        shown = self.run("systemctl", "show", name, *(f"--property={p}" for p in properties),
                         check=False).stdout
        return dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)

    def wait_for_unit(self, name: str, prop: str, test, timeout_s: float, what: str) -> str:
        """Poll ``prop`` of ``name`` (twice a second) until ``test(value)`` holds."""
        deadline = time.monotonic() + timeout_s
        value = ""
        while time.monotonic() < deadline:
            value = self.unit(name, prop).get(prop, "")
            if test(value):
                return value
            time.sleep(0.5)
        journal = self.run("journalctl", "--no-pager", "-n", "60", check=False).stdout
        raise AssertionError(f"timed out waiting for {what} ({prop}={value!r}); "
                             f"the journal's end:\n{journal}")

    def stop(self) -> None:
        """Power the container off (SIGTERM: nspawn asks its systemd to shut down)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
