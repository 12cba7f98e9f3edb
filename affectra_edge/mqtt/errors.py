"""What went wrong with the broker, in one sentence a person can act on."""

from __future__ import annotations

import errno
import os
import socket
import ssl

from affectra_edge.config import MqttConfig

CONNECT_TIMEOUT_S = 5.0
# CONNACK codes that mean "the login was refused": MQTT 3.1.1 (4, 5) and 5.0 (0x86, 0x87).
LOGIN_REFUSED = {4, 5, 0x86, 0x87}


def tls_files_problem(config: MqttConfig) -> str | None:
    """A TLS file that cannot be read, named; None when all are readable."""
    for what, path in (("CA file", config.ca_file), ("client certificate", config.client_cert),
                       ("client key", config.client_key)):
        if path and not os.access(path, os.R_OK):
            reason = "no such file" if not os.path.exists(path) else "not readable"
            return f"TLS: the {what} {path} cannot be read ({reason})"
    return None


def tls_load_problem(exc: BaseException, config: MqttConfig) -> str:
    """Loading the CA, certificate or key failed (before any connection)."""
    files = ", ".join(p for p in (config.ca_file, config.client_cert, config.client_key) if p)
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    return (f"TLS: cannot load {files or 'the TLS settings'} ({reason}); the files must be "
            f"PEM, and the key must match the certificate and not be password-protected")


def connect_problem(exc: BaseException, config: MqttConfig) -> str:
    """A failed connection attempt."""
    where = f"{config.host}:{config.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS: the broker's certificate was not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc}); is it a TLS port?"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the broker's host name {config.host!r}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}; is the broker running on that port?"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer from {where} within {CONNECT_TIMEOUT_S:g} s"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{where} is unreachable from this device"
    if isinstance(exc, OSError):
        return f"cannot connect to {where}: {exc.strerror or exc}"
    return f"cannot connect to {where}: {exc}"


def refused_problem(code: int, text: str) -> str:
    hint = " - check the user name and password" if code in LOGIN_REFUSED else ""
    return f"the broker refused the connection: {text}{hint}"


def dropped_problem(client_id: str, lasted_s: float) -> str:
    if lasted_s < 3.0:
        return (f"the broker closed the connection {lasted_s:.1f} s after login; if this "
                f"repeats, another client may be using the client id {client_id} (give each "
                f"box its own device.id)")
    return "the connection to the broker was lost"
