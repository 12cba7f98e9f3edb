#!/bin/sh
# /usr/bin/affectra: the `affectra` command, run by the Python environment in /opt/affectra.
# -I: neither the current directory nor PYTHON* variables can change what is imported.
# `run`, `set-password` and `clear` change the state dir: started by root, they run as the
# affectra user (with its home, as under systemd), so whatever they write belongs to the
# daemon's user and not to root.
set -e
python=/opt/affectra/venv/bin/python
case "${1:-}" in
run | set-password | clear)
	if [ "$(id -u)" = 0 ] && id affectra >/dev/null 2>&1; then
		exec env HOME=/var/lib/affectra USER=affectra LOGNAME=affectra \
			setpriv --reuid=affectra --regid=affectra --init-groups \
			-- "$python" -I -m affectra_edge "$@"
	fi
	;;
esac
exec "$python" -I -m affectra_edge "$@"
