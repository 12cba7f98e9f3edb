"""paho-mqtt's network loop run by our own thread: one ``select`` over the broker's socket
and a wake-up socket, then paho's ``loop_read``/``loop_write``/``loop_misc``."""

from __future__ import annotations

import select
import socket

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode


def pump(client: paho.Client, wake: socket.socket, timeout: float) -> bool:
    """Wait up to ``timeout`` for the socket or a wake-up; False: the connection is gone."""
    sock = client.socket()
    if sock is None:
        return False
    writable = [sock] if client.want_write() else []
    pending_tls = getattr(sock, "pending", lambda: 0)()  # bytes TLS has decrypted already
    try:
        ready_r, ready_w, _ = select.select([sock, wake], writable, [],
                                            0 if pending_tls else max(0.0, timeout))
    except (OSError, ValueError):
        return False
    if wake in ready_r:
        try:
            while wake.recv(512):
                pass
        except BlockingIOError:
            pass
    ok = MQTTErrorCode.MQTT_ERR_SUCCESS
    if (sock in ready_r or pending_tls) and client.loop_read() != ok:
        return False
    if sock in ready_w and client.loop_write() != ok:
        return False
    return client.loop_misc() == ok


def close(client: paho.Client) -> None:
    """Close the client's socket (without a DISCONNECT: the connection is given up)."""
    sock = client.socket()
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
