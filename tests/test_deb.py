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
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from affectra_edge import __version__
from affectra_edge.config import Config, load_config
from affectra_edge.emotions import EMOTIONS
from affectra_edge.records import SessionRecord
from affectra_edge.storage import SessionStore
from tests.conftest import ROOT
from tests.elf import MACHINE_OF_ARCH, elf_files, read_elf
from tests.systemd_unit import security, unit_root

pytestmark = pytest.mark.timeout(900)  # a first run builds, downloads and debootstraps

BUILD = ROOT / "build"
SITE = "opt/affectra/venv/lib/python3.11/site-packages"
SUITE = "bookworm"
TOOLS = {"lintian": "lintian", "debootstrap": "debootstrap",
         "qemu-aarch64-static": "qemu-user-static", "systemd-analyze": "systemd"}
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


def run(*cmd: str | Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd``; a failure shows its output."""
    result = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True,
                            **kwargs)
    assert result.returncode == 0, (f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
                                    f"{result.stdout}\n{result.stderr}")
    return result


def in_root(root: Path, *cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}
    return run("chroot", root, *cmd, input=stdin, env=env, timeout=600)


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


def control_field(deb: Path, name: str) -> str:
    return run("dpkg-deb", "--field", deb, name).stdout.strip()


def depends_names(deb: Path) -> list[str]:
    """The first alternative of each Depends entry, without versions."""
    entries = control_field(deb, "Depends").split(",")
    return [re.split(r"[\s(|]", entry.strip(), maxsplit=1)[0] for entry in entries]


# ---- throwaway Debian roots ----------------------------------------------------------------

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


@pytest.fixture
def amd64_root(deb_amd64, tmp_path) -> Path:
    yield unpack_root("amd64", deb_amd64, root := (tmp_path / "root").resolve())
    shutil.rmtree(root)


def unpack_root(arch: str, deb: Path, root: Path) -> Path:
    """A fresh copy of the cached root for ``arch`` with what ``deb`` depends on."""
    root.mkdir()
    run("tar", "-xf", root_tarball(arch, depends_names(deb)), "-C", root)
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
    now = datetime.now(UTC)
    old = SessionStore(amd64_root / "var/lib/affectra/sessions", retention_days=30).append(
        SessionRecord("s-old", "door", now - timedelta(seconds=5), now, 5.0, 50, "happy",
                      {e: (100.0 if e == "happy" else 0.0) for e in EMOTIONS}))
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
