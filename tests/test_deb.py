"""The Debian package (scripts/build-deb.sh, debian/): built once per session, inspected,
linted, installed into a throwaway Debian root and purged again; the arm64 build is checked by
its ELF headers and run under qemu user emulation.

Needs root (chroot, dpkg) and Debian's lintian, debootstrap and qemu-user-static (Makefile
TEST_DEBS; installed here when missing). The Debian roots are cached as tarballs in
build/debroots/, keyed by suite, architecture, mirror and package list. The packages are built
with XZ_LEVEL=1: the same files as `make deb`, compressed faster.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from affectra_edge import __version__
from affectra_edge.config import Config, load_config
from affectra_edge.storage import SessionStore
from tests.conftest import ROOT
from tests.debian_roots import (BOOT_PACKAGES, BUILD, Container, booted_with_systemd,
                                control_field, depends_names, file_list, in_root, install,
                                passwd_entry, run, started, unpack_root)
from tests.elf import MACHINE_OF_ARCH, elf_files, read_elf
from tests.systemd_unit import security, unit_root
from tests.test_cli import make_record

pytestmark = pytest.mark.timeout(900)  # a first run builds, downloads and debootstraps

SITE = "opt/affectra/venv/lib/python3.11/site-packages"
TOOLS = {"lintian": "lintian", "debootstrap": "debootstrap",
         "qemu-aarch64-static": "qemu-user-static", "systemd-analyze": "systemd",
         "systemd-nspawn": "systemd-container"}
# Libraries the wheels' compiled files may need from the system, and the Debian package that
# provides each: all of these packages must be in the .deb's Depends.
SYSTEM_LIBS = {
    "libc.so.6": "libc6", "libm.so.6": "libc6", "libpthread.so.0": "libc6",
    "libdl.so.2": "libc6", "librt.so.1": "libc6", "libutil.so.1": "libc6",
    "ld-linux-x86-64.so.2": "libc6", "ld-linux-aarch64.so.1": "libc6",
    "libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1", "libz.so.1": "zlib1g",
}
# ai-edge-litert's plugins for vendor NPUs (Intel, Qualcomm) link the vendors' own SDKs; they
# are loaded only when such hardware is used, never by our models on the CPU.
OPTIONAL_PLUGINS = f"{SITE}/ai_edge_litert/vendors/"
# Left behind on purpose: the affectra user stays after a purge (Debian does not delete system
# users), and adding it made the shadow tools write their usual backup copies.
USER_BACKUPS = {"etc/passwd-", "etc/group-", "etc/shadow-", "etc/gshadow-"}
PASSWORD = "correct horse battery staple"
ASTRONAUT = f"/{SITE}/affectra_edge/photos/astronaut.png"


# ---- building ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tools() -> None:
    assert os.geteuid() == 0, "the package tests need root (dpkg, chroot); run them as root"
    missing = sorted({pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd) is None})
    if missing:
        run(ROOT / "scripts" / "apt-install.sh", *missing, timeout=900)


def build_deb(arch: str) -> Path:
    out = BUILD / "test-deb"
    # pip of the interpreter running the tests (.venv: it has setuptools and wheel).
    env = dict(os.environ, PYTHON=sys.executable, XZ_LEVEL="1")
    result = run(ROOT / "scripts" / "build-deb.sh", "--arch", arch, "--out", out, cwd=ROOT,
                 env=env, timeout=900)
    deb = ROOT / result.stdout.strip().splitlines()[-1]
    assert deb == out / f"affectra_{__version__}_{arch}.deb"
    return deb


def extract(deb: Path, into: Path) -> Path:
    run("dpkg-deb", "-x", deb, into)
    return into


@pytest.fixture(scope="session")
def deb_amd64(tools) -> Path:
    return build_deb("amd64")


@pytest.fixture(scope="session")
def deb_arm64(tools) -> Path:
    return build_deb("arm64")


# Package trees and Debian roots are hundreds of MB each: removed as soon as they are done.
@pytest.fixture(scope="session")
def tree_amd64(deb_amd64, tmp_path_factory) -> Path:
    yield extract(deb_amd64, tree := tmp_path_factory.mktemp("amd64-tree"))
    shutil.rmtree(tree)


@pytest.fixture(scope="session")
def tree_arm64(deb_arm64, tmp_path_factory) -> Path:
    yield extract(deb_arm64, tree := tmp_path_factory.mktemp("arm64-tree"))
    shutil.rmtree(tree)


# ---- throwaway Debian roots ----------------------------------------------------------------

@pytest.fixture
def amd64_root(deb_amd64, tmp_path) -> Path:
    yield unpack_root("amd64", deb_amd64, root := (tmp_path / "root").resolve())
    shutil.rmtree(root)


# ---- the package as built ------------------------------------------------------------------

def test_control_fields_and_conffile(deb_amd64):
    assert control_field(deb_amd64, "Package") == "affectra"
    assert control_field(deb_amd64, "Version") == __version__
    assert control_field(deb_amd64, "Architecture") == "amd64"
    assert control_field(deb_amd64, "Maintainer") == "Affectra Edge <dev@affectra.invalid>"
    depends = control_field(deb_amd64, "Depends")
    assert "python3 (>= 3.11), python3 (<< 3.12)" in depends
    assert set(SYSTEM_LIBS.values()) <= set(depends_names(deb_amd64))
    conffiles = run("dpkg-deb", "--info", deb_amd64, "conffiles").stdout.split()
    assert conffiles == ["/etc/affectra/affectra.toml"]


def test_files_owners_and_no_bytecode(deb_amd64):
    listing = run("dpkg-deb", "--contents", deb_amd64).stdout.splitlines()
    entries = {}
    for line in listing:
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        entries[path.split(" -> ")[0].removeprefix("./").rstrip("/")] = (mode, owner, path)
    assert {owner for _mode, owner, _path in entries.values()} == {"root/root"}
    for path in ("opt/affectra/venv/pyvenv.cfg", "usr/bin/affectra",
                 "usr/share/affectra/web/templates/base.tpl",
                 "usr/share/affectra/web/static/vendor/chart.umd.min.js",
                 "etc/affectra/affectra.toml", "lib/systemd/system/affectra.service",
                 "usr/lib/sysusers.d/affectra.conf", "usr/lib/tmpfiles.d/affectra.conf",
                 "usr/share/doc/affectra/copyright", "usr/share/man/man1/affectra.1.gz",
                 f"{SITE}/affectra_edge/__main__.py", f"{SITE}/sdnotify/__init__.py",
                 f"{SITE}/affectra_edge/vision/models/face_detection_short_range.tflite",
                 f"{SITE}/affectra_edge/vision/models/emotion_model_quantized.tflite",
                 f"{SITE}/affectra_edge/photos/astronaut.png"):
        assert path in entries, f"{path} is not in the package"
    assert entries["usr/bin/affectra"][0] == "-rwxr-xr-x"
    assert entries["opt/affectra/venv/bin/python"][2].endswith(" -> /usr/bin/python3")
    compiled = [p for p in entries if p.endswith((".pyc", ".pyo")) or "__pycache__" in p]
    assert compiled == []


def test_shipped_files_are_the_sources(tree_amd64):
    """The unit, snippets, conffile and web assets are the checkout's, unchanged."""
    pairs = {"lib/systemd/system/affectra.service": "systemd/affectra.service",
             "usr/lib/sysusers.d/affectra.conf": "systemd/affectra.sysusers",
             "usr/lib/tmpfiles.d/affectra.conf": "systemd/affectra.tmpfiles",
             "etc/affectra/affectra.toml": "debian/affectra.toml",
             "usr/bin/affectra": "debian/wrapper.sh"}
    for installed, source in pairs.items():
        assert (tree_amd64 / installed).read_bytes() == (ROOT / source).read_bytes(), installed
    web = ROOT / "web"
    expected = {str(p.relative_to(web)) for d in ("templates", "static")
                for p in (web / d).rglob("*") if p.is_file()}
    shipped = tree_amd64 / "usr/share/affectra/web"
    assert {str(p.relative_to(shipped)) for p in shipped.rglob("*") if p.is_file()} == expected
    assert (tree_amd64 / "opt/affectra/venv/pyvenv.cfg").read_text().splitlines()[:2] == [
        "home = /usr/bin", "include-system-site-packages = false"]


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_compiled_files_are_for_the_arch_and_need_only_declared_libraries(arch, request):
    """Every ELF file in the venv is for ``arch`` (e_machine: 62 x86-64, 183 AArch64); each
    library it needs is bundled in the venv or comes from a package in Depends."""
    tree = request.getfixturevalue(f"tree_{arch}")
    deb = request.getfixturevalue(f"deb_{arch}")
    files = [read_elf(p) for p in elf_files(tree / "opt/affectra/venv")]
    assert len(files) > 50, "the wheels' compiled modules are missing"
    wrong = [str(f.path) for f in files if f.machine != MACHINE_OF_ARCH[arch]]
    assert wrong == [], f"not {arch}: {wrong}"
    bundled = {f.path.name for f in files}
    unknown = {(str(f.path.relative_to(tree)), lib) for f in files for lib in f.needed
               if lib not in bundled and lib not in SYSTEM_LIBS
               and not str(f.path.relative_to(tree)).startswith(OPTIONAL_PLUGINS)}
    assert unknown == set(), "libraries needed but neither bundled nor in SYSTEM_LIBS"
    assert set(SYSTEM_LIBS.values()) <= set(depends_names(deb))


def test_copyright_names_every_bundled_wheel(tree_amd64):
    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    site = tree_amd64 / SITE
    bundled = {(norm(d.name.split("-")[0]), d.name.removesuffix(".dist-info").split("-")[1])
               for d in site.glob("*.dist-info") if not d.name.startswith("affectra_edge-")}
    text = (ROOT / "debian/copyright").read_text()
    listed = {(norm(name), version)
              for name, version in re.findall(r"^ (\S+) (\d\S*): ", text, re.MULTILINE)}
    assert listed == bundled


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_lintian_reports_no_errors(arch, request):
    deb = request.getfixturevalue(f"deb_{arch}")
    result = subprocess.run(["lintian", str(deb)], check=False, capture_output=True, text=True,
                            timeout=600)
    print(result.stdout)  # the warnings, for the record
    errors = [line for line in result.stdout.splitlines() if line.startswith("E:")]
    # Exit 0: no tag at or above lintian's --fail-on level (errors, by default).
    assert (errors, result.returncode) == ([], 0), result.stdout + result.stderr


# ---- the unit as installed -----------------------------------------------------------------

@pytest.fixture(scope="session")
def installed_unit_root(tree_amd64, tmp_path_factory) -> Path:
    """The unit and its ExecStart from the package tree, beside this machine's systemd units."""
    return unit_root(tmp_path_factory.mktemp("unit-root"),
                     tree_amd64 / "lib/systemd/system/affectra.service",
                     tree_amd64 / "usr/bin/affectra")


def test_systemd_analyze_verify_passes(installed_unit_root):
    result = subprocess.run(["systemd-analyze", "verify", f"--root={installed_unit_root}",
                             "affectra.service"], check=False, capture_output=True, text=True,
                            timeout=120)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_systemd_security_exposure_is_ok(installed_unit_root):
    """`make bench` (bench/systemd_security.py) records the figure and the full table."""
    exposure, rating, table, text = security(installed_unit_root)
    assert exposure <= 2.0 and rating == "OK", text
    assert {row["name"] for row in table if row["set"]} >= {
        "PrivateTmp=", "ProtectHome=", "NoNewPrivileges=", "CapabilityBoundingSet=~CAP_SYS_ADMIN"}


# ---- the conffile --------------------------------------------------------------------------

def test_conffile_is_exactly_the_defaults():
    """debian/affectra.toml writes out every default (comments aside) and nothing else; only
    device.id, whose default depends on the machine, stays commented out."""
    path = ROOT / "debian" / "affectra.toml"
    data = tomllib.loads(path.read_text())
    assert "id" not in data["device"]
    loaded = load_config(path)
    defaults = Config()
    defaults.device.id = loaded.device.id  # the machine's own default, not from the file
    assert loaded == defaults

    def keys(section: object, table: dict, prefix: str) -> list[str]:
        missing = []
        for spec in dataclasses.fields(section):
            value, name = getattr(section, spec.name), prefix + spec.name
            if spec.name == "source_file" or name == "device.id":
                continue
            if spec.name not in table:
                missing.append(name)
            elif dataclasses.is_dataclass(value):
                missing += keys(value, table[spec.name], name + ".")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    missing += keys(item, table[spec.name][i], f"{name}[{i}].")
        return missing

    assert keys(defaults, data, "") == [], "defaults not written out in debian/affectra.toml"


# ---- installed into Debian -----------------------------------------------------------------

def check_installed(root: Path, dpkg_output: str) -> None:
    assert "set-password" in dpkg_output  # postinst says how to set the admin password
    assert in_root(root, "affectra", "--version").stdout.strip() == f"affectra {__version__}"
    checked = in_root(root, "affectra", "check-config").stdout
    assert checked.startswith("/etc/affectra/affectra.toml: OK"), checked
    # Debian's python3 with the venv's wheels only: numpy, OpenCV and LiteRT really run.
    found = in_root(root, "affectra", "analyze", ASTRONAUT).stdout
    assert "1 face(s)" in found and ": happy (" in found, found
    paths = in_root(root, "/opt/affectra/venv/bin/python", "-I", "-c",
                    "import sys; print(sys.prefix); print(*sys.path)").stdout.split()
    assert paths[0] == "/opt/affectra/venv" and not any("dist-packages" in p for p in paths)

    user = passwd_entry(root, "affectra")
    assert user[5:] == ["/var/lib/affectra", "/usr/sbin/nologin"]
    assert "video" in in_root(root, "id", "-nG", "affectra").stdout.split()
    wants = root / "etc/systemd/system/multi-user.target.wants/affectra.service"
    assert os.readlink(wants) == "/lib/systemd/system/affectra.service"
    # Enabled, not started, and the daemon wrote no state yet.
    assert started(root / "run/systemd/systemctl-calls") == []
    state = root / "var/lib/affectra"
    info = state.stat()
    assert (str(info.st_uid), oct(info.st_mode & 0o777)) == (user[2], "0o750")
    assert list(state.iterdir()) == []


def set_password_as_root(root: Path) -> Path:
    """root runs set-password; the wrapper makes the file the affectra user's."""
    in_root(root, "affectra", "set-password", "--state-dir", "/var/lib/affectra",
            stdin=f"{PASSWORD}\n{PASSWORD}\n")
    users = root / "var/lib/affectra/users.json"
    assert str(users.stat().st_uid) == passwd_entry(root, "affectra")[2]
    return users


def test_install_upgrade_then_purge_keeps_state_by_default(deb_amd64, amd64_root):
    calls = booted_with_systemd(amd64_root)
    before = file_list(amd64_root)
    check_installed(amd64_root, install(amd64_root, deb_amd64))
    users = set_password_as_root(amd64_root)
    recorded = users.read_bytes()
    assert list((amd64_root / "opt/affectra").rglob("*.pyc")), "postinst compiled nothing"
    # An upgrade (here: the same version again) restarts the daemon only if it was running.
    calls.write_text("")
    install(amd64_root, deb_amd64)
    assert started(calls) == ["try-restart affectra.service"], calls.read_text()

    calls.write_text("")
    in_root(amd64_root, "dpkg", "--purge", "affectra")
    assert "stop affectra.service" in calls.read_text().splitlines(), calls.read_text()
    after = file_list(amd64_root)
    assert before - after == set()
    assert after - before - USER_BACKUPS == {"var/lib/affectra", "var/lib/affectra/users.json"}
    assert users.read_bytes() == recorded


def test_purge_deletes_state_when_asked(deb_amd64, amd64_root):
    """Also: the user made from the sysusers snippet, as on a box with systemd (this machine's
    systemd-sysusers writing into the root), is the one postinst's fallback would make."""
    before = file_list(amd64_root)
    snippet = (ROOT / "systemd/affectra.sysusers").read_text().splitlines()
    run("systemd-sysusers", f"--root={amd64_root}", "--inline",
        *(line for line in snippet if line and not line.startswith("#")))
    in_root(amd64_root, "debconf-set-selections",
            stdin="affectra affectra/purge-state boolean true\n")
    # Left by `sudo affectra run` before the package: root's files, which postinst hands over.
    old = SessionStore(amd64_root / "var/lib/affectra/sessions", retention_days=30).append(
        make_record(datetime.now(UTC), "happy", 5.0))
    install(amd64_root, deb_amd64)
    uid = int(passwd_entry(amd64_root, "affectra")[2])
    assert (old.stat().st_uid, old.parent.stat().st_uid) == (uid, uid)
    assert passwd_entry(amd64_root, "affectra")[5:] == ["/var/lib/affectra", "/usr/sbin/nologin"]
    assert "video" in in_root(amd64_root, "id", "-nG", "affectra").stdout.split()
    set_password_as_root(amd64_root)
    stats = in_root(amd64_root, "affectra", "stats", "--json", "--state-dir",
                    "/var/lib/affectra").stdout
    assert json.loads(stats)["sessions_total"] == 1  # pandas runs too

    in_root(amd64_root, "dpkg", "--purge", "affectra")
    after = file_list(amd64_root)
    assert before - after == set()
    assert after - before - USER_BACKUPS == set()


# ---- the service under a real systemd ------------------------------------------------------

def test_the_hardened_service_runs_under_systemd_and_its_watchdog_restarts_it(deb_amd64,
                                                                               tmp_path):
    """The package in a Debian root booted by its own systemd (systemd-nspawn). The unit,
    enabled by postinst, starts at boot with all its hardening (system call filter, no
    capabilities, read-only system) and says READY and a status line; `affectra status`
    answers. A drop-in arms the analyzer's test hook and sets WatchdogSec=4: a wedged
    analyzer stops the pings, systemd kills and restarts the service, the next run says why,
    and `journalctl -p err` has the reason. Stopping is clean."""
    root = unpack_root("amd64", deb_amd64, (tmp_path / "root").resolve(), extra=BOOT_PACKAGES)
    install(root, deb_amd64)
    dropin = root / "etc/systemd/system/affectra.service.d/test-wedge.conf"
    dropin.parent.mkdir(parents=True)
    dropin.write_text("[Service]\nWatchdogSec=4\n"
                      "Environment=AFFECTRA_TEST_WEDGE_FILE=/var/lib/affectra/wedge\n")
    box = Container(root)
    try:
        box.wait_for_unit("affectra", "ActiveState", lambda v: v == "active", 120,
                          "affectra.service to be active (READY=1 sent)")
        status = box.wait_for_unit("affectra", "StatusText", lambda v: "camera online" in v,
                                   30, "the daemon's status line")
        assert "1 of 1 camera online" in status and "sessions today" in status, status
        answer = box.run("affectra", "status").stdout
        assert "camera demo: online" in answer, answer

        box.run("touch", "/var/lib/affectra/wedge")
        box.wait_for_unit("affectra", "NRestarts", lambda v: v == "1", 60,
                          "systemd's watchdog to restart the service")
        box.run("rm", "/var/lib/affectra/wedge")
        box.wait_for_unit("affectra", "ActiveState", lambda v: v == "active", 60,
                          "the restarted service to be active")
        journal = box.run("journalctl", "--unit=affectra", "--no-pager", "--output=cat").stdout
        assert "Watchdog timeout" in journal
        assert "ended without a clean stop" in journal
        errors = box.run("journalctl", "--unit=affectra", "--priority=err", "--no-pager",
                         "--output=cat").stdout
        assert "unhealthy: the analyzer of camera demo has made no progress" in errors

        box.run("systemctl", "stop", "affectra")
        after = box.unit("affectra", "ActiveState", "Result")
        assert after == {"ActiveState": "inactive", "Result": "success"}, after
    finally:
        box.stop()
        shutil.rmtree(root)


# ---- arm64 under qemu ----------------------------------------------------------------------

def test_arm64_package_runs_under_qemu(deb_arm64, tmp_path):
    """The arm64 package unpacked into an arm64 Debian root, its /usr/bin/affectra run by
    qemu-aarch64-static. The kernel learns to hand AArch64 programs to qemu through a
    binfmt_misc mounted in a user namespace of our own (Linux >= 6.7), so the machine's own
    binfmt settings are never touched."""
    root = extract(deb_arm64, unpack_root("arm64", deb_arm64, tmp_path / "root"))
    conf = Path("/usr/lib/binfmt.d/qemu-aarch64.conf").read_text().strip()
    # Debian's entry with our interpreter, and F: qemu is opened now, not inside the chroot.
    name, kind, offset, magic, mask, _interp, _flags = conf.lstrip(":").split(":")
    register = ":".join(["", name, kind, offset, magic, mask,
                         shutil.which("qemu-aarch64-static"), "F"])
    mount = tmp_path / "binfmt"
    mount.mkdir()
    script = (f'mount -t binfmt_misc binfmt_misc "{mount}" && '
              f"printf '%s' '{register}' > \"{mount}/register\" && "
              f'chroot "{root}" /usr/bin/affectra --version && '
              f'chroot "{root}" /usr/bin/affectra check-config && '
              f'chroot "{root}" /usr/bin/affectra analyze {ASTRONAUT}')
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "--fork",
                             "sh", "-c", script], check=False, capture_output=True, text=True,
                            timeout=300)
    shutil.rmtree(root)
    assert result.returncode == 0, (
        f"arm64 affectra under qemu failed ({result.returncode}); a kernel older than 6.7 "
        f"cannot mount binfmt_misc in a user namespace\n{result.stdout}\n{result.stderr}")
    lines = result.stdout.splitlines()
    assert lines[0] == f"affectra {__version__}"
    assert lines[1].startswith("/etc/affectra/affectra.toml: OK")
    assert ": happy (" in result.stdout
