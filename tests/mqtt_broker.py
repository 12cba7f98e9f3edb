"""A real Mosquitto (Debian's package) on a free loopback port, and a subscriber that records.

``make test`` installs mosquitto when it is missing; a test machine without it fails loudly.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


class Broker:
    """One mosquitto process with its own config, started and stopped by the test."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None,
                 tls: TlsFiles | None = None, persistent: bool = False):
        if not os.path.exists(MOSQUITTO):
            raise AssertionError("mosquitto is not installed; `make test` installs it "
                                 "(Debian package mosquitto)")
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = workdir / "mosquitto.log"
        persistence = (["persistence true", f"persistence_location {workdir}/"] if persistent
                       else ["persistence false"])
        lines = [f"listener {self.port} 127.0.0.1", *persistence,
                 f"log_dest file {self.log_path}", "log_type all", "connection_messages true"]
        if os.geteuid() == 0:
            lines.append("user root")  # stay root: the files below belong to the test's user
        if users:
            password_file = workdir / "passwords"
            for i, (user, password) in enumerate(users.items()):
                flags = ["-b", "-c"] if i == 0 else ["-b"]
                subprocess.run([MOSQUITTO_PASSWD, *flags, str(password_file), user, password],
                               check=True, capture_output=True)
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"cafile {tls.ca}", f"certfile {tls.cert}", f"keyfile {tls.key}"]
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> Broker:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config_path)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("mosquitto did not start: "
                                     + self.process.stderr.read().decode(errors="replace")
                                     + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"mosquitto is not listening on {self.port}: {self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def refused_logins(self) -> int:
        """How many logins the broker has refused (it cannot name the client of those)."""
        return sum("disconnected, not authorised" in line for line in self.log().splitlines())


class Recorder:
    """A subscriber on the broker that keeps every message it receives, in order."""

    def __init__(self, broker: Broker, topic: str = "#", tls: TlsFiles | None = None,
                 username: str | None = None, password: str | None = None,
                 persistent: bool = False):
        """``persistent``: a fixed client id and a session the broker keeps while we are away
        (messages to it are queued by the broker meanwhile)."""
        self.messages: list[paho.MQTTMessage] = []
        self._cond = threading.Condition()
        client_id = f"recorder-{broker.port}" if persistent else f"recorder-{free_port()}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=not persistent)
        if username:
            self.client.username_pw_set(username, password)
        if tls:
            self.client.tls_set(ca_certs=str(tls.ca))
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port, 30)
        self.client.loop_start()
        assert subscribed.wait(10), "the test's subscriber could not subscribe"

    def _on_message(self, _client, _userdata, message) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def on(self, topic: str) -> list[paho.MQTTMessage]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, topic: str, predicate=lambda m: True, timeout_s: float = 15,
                 count: int = 1) -> list[paho.MQTTMessage]:
        """The first ``count`` messages on ``topic`` for which ``predicate`` holds."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                found = [m for m in self.messages if m.topic == topic and predicate(m)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({m.topic for m in self.messages})
                    raise AssertionError(f"no {count} message(s) on {topic} within {timeout_s} s;"
                                         f" topics seen: {seen}")
                self._cond.wait(left)

    def json(self, topic: str, **kwargs) -> dict:
        return json.loads(self.wait_for(topic, **kwargs)[-1].payload)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def make_tls_files(directory: Path, host: str = "127.0.0.1") -> TlsFiles:
    """A CA and a server certificate for ``host`` signed by it, made for the test."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "affectra test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                            crl_sign=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    files.key.chmod(0o600)
    return files
