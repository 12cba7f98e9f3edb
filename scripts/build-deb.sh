#!/bin/sh
# Build the affectra .deb (see debian/): a Python environment under /opt/affectra filled with
# the PyPI wheels of the *target* architecture (never the build machine's), run by Debian's
# /usr/bin/python3 (3.11); the web assets, the unit, the sysusers and tmpfiles snippets and the
# conffile. The package is written to OUT/affectra_<version>_<arch>.deb.
#
# usage: scripts/build-deb.sh [--arch amd64|arm64] [--out DIR]   (defaults: this machine, dist)
# PYTHON (default .venv/bin/python, see scripts/bootstrap-venv.sh) runs pip; it needs
# setuptools and wheel, which that venv has. XZ_LEVEL (default 6) trades size for time: the
# tests use 1 (94 MB instead of 78 MB for amd64, 9 s of compression instead of 60 s).
set -eu
cd "$(dirname "$0")/.."

arch=$(dpkg --print-architecture)
out=dist
while [ $# -gt 0 ]; do
	case "$1" in
	--arch) arch=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--arch amd64|arm64] [--out DIR]" >&2; exit 2 ;;
	esac
done
case "$arch" in
amd64) machine=x86_64 ;;
arm64) machine=aarch64 ;;
*) echo "build-deb: architecture $arch is not built (amd64 or arm64)" >&2; exit 2 ;;
esac
# Debian bookworm's glibc: wheels may need at most this (manylinux_2_17 ... _2_36).
glibc=2.36
python=${PYTHON:-.venv/bin/python}

version=$("$python" -c 'import affectra_edge; print(affectra_edge.__version__)')
if ! head -n 1 debian/changelog | grep -q "^affectra ($version) "; then
	echo "build-deb: debian/changelog does not start with version $version; add an entry" >&2
	exit 1
fi

work=build/deb/$arch
root=$work/root
venv=$root/opt/affectra/venv
site=$venv/lib/python3.11/site-packages
rm -rf "$work"
mkdir -p "$work/src" "$work/wheels" "$out"

# The project's wheel, from a clean copy of the sources (setuptools would otherwise pack stale
# files left in build/lib by earlier builds).
tar -cf - --exclude=__pycache__ affectra_edge setup.cfg pyproject.toml README.md |
	tar -xf - -C "$work/src"
"$python" -m pip wheel -q --no-deps --no-build-isolation -w "$work/wheels" "$work/src"
# sdnotify is published as an sdist only: its wheel is pure Python, so building it here is fine.
"$python" -m pip wheel -q --no-deps --no-build-isolation --no-binary sdnotify \
	-c debian/constraints.txt -w "$work/wheels" sdnotify

platforms="--platform manylinux2014_$machine"
minor=17
while [ "$minor" -le "${glibc#2.}" ]; do
	platforms="$platforms --platform manylinux_2_${minor}_$machine"
	minor=$((minor + 1))
done
# shellcheck disable=SC2086 # $platforms is a list of options
"$python" -m pip install -q --target "$site" --no-compile --only-binary=:all: $platforms \
	--python-version 3.11 --implementation cp --abi cp311 \
	--find-links "$work/wheels" -c debian/constraints.txt \
	"$work/wheels/affectra_edge-$version-py3-none-any.whl"
# pip's console scripts carry the build machine's python in their shebang: ours is below.
rm -rf "${site:?}/bin"
find "$site" -depth \( -name __pycache__ -o -name '*.pyc' \) -exec rm -rf {} +

# A venv around it for Debian's python3.
mkdir -p "$venv/bin"
ln -s /usr/bin/python3 "$venv/bin/python"
ln -s python "$venv/bin/python3"
ln -s python "$venv/bin/python3.11"
ln -s lib "$venv/lib64"
printf 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11\n' \
	>"$venv/pyvenv.cfg"

install -D -m 755 debian/wrapper.sh "$root/usr/bin/affectra"
mkdir -p "$root/usr/share/affectra/web"
cp -R web/templates web/static "$root/usr/share/affectra/web/"
install -D -m 644 debian/affectra.toml "$root/etc/affectra/affectra.toml"
install -D -m 644 systemd/affectra.service "$root/lib/systemd/system/affectra.service"
install -D -m 644 systemd/affectra.sysusers "$root/usr/lib/sysusers.d/affectra.conf"
install -D -m 644 systemd/affectra.tmpfiles "$root/usr/lib/tmpfiles.d/affectra.conf"
doc=$root/usr/share/doc/affectra
install -D -m 644 debian/copyright "$doc/copyright"
install -D -m 644 README.md "$doc/README.md"
gzip -9nc debian/changelog >"$doc/changelog.gz"
mkdir -p "$root/usr/share/man/man1"
gzip -9nc debian/affectra.1 >"$root/usr/share/man/man1/affectra.1.gz"
install -D -m 644 debian/lintian-overrides "$root/usr/share/lintian/overrides/affectra"

# Same modes and times on every build: directories 0755, files 0644 (shared objects are
# loaded, never run), the wrapper 0755; times from the last commit.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/affectra"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
find "$root" -exec touch -h -d "@$epoch" {} +

mkdir -p "$root/DEBIAN"
size=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$size/" \
	-e "s/@GLIBC@/$glibc/" debian/control.in >"$root/DEBIAN/control"
install -m 644 debian/conffiles debian/templates "$root/DEBIAN/"
install -m 755 debian/postinst debian/prerm debian/postrm debian/config "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z |
	xargs -0 md5sum | sed 's#  \./#  #') >"$work/md5sums"
install -m 644 "$work/md5sums" "$root/DEBIAN/md5sums"

deb=$out/affectra_${version}_$arch.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz "-z${XZ_LEVEL:-6}" --build "$root" "$deb" >/dev/null
echo "$deb"
