"""Helpers of the session and TLS tests: the misbehaving Node carrier (node/session_smsc.js),
raw SMPP over a socket for what smpplib refuses to send (requests before bind, unknown
commands, bad lengths), reading a gateway's log, and test certificates made with the
machine's `openssl` at test time (nothing private is committed).

Every wait has a condition and a deadline (smpp_helpers.wait_for).
"""

from __future__ import annotations

import signal
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from smpp_helpers import NodeSmsc, WaitTimeout, to_toml, wait_for

# ----------------------------------------------------------------------------------------------
# The misbehaving carrier


class ScriptedCarrier(NodeSmsc):
    """`node tests/interop/node/session_smsc.js`: a carrier misbehaving as its arguments say,
    with the event protocol of NodeSmsc (plus a timestamp `t` in ms on every event)."""

    def __init__(self, port: int, *args: str, system_id: str = "gw", password: str = "secret"):
        super().__init__(port, system_id=system_id, password=password)
        self.script = "session_smsc.js"
        self.args = ["--port", str(port), "--system-id", system_id, "--password", password, *args]

    def of(self, name: str) -> list[dict[str, Any]]:
        return self.find(lambda e: e["event"] == name)

    def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float, what: str, count: int = 1) -> list[dict[str, Any]]:
        """The events matching `pred` once there are `count` of them."""
        self.wait_event(lambda e: len(self.find(pred)) >= count, timeout, what)
        return self.find(pred)


@pytest.fixture
def carriers() -> Iterator[Callable[..., ScriptedCarrier]]:
    """Start scripted carriers: `carriers(port, *args)`; all stopped at teardown."""
    made: list[ScriptedCarrier] = []

    def make(port: int, *args: str) -> ScriptedCarrier:
        c = ScriptedCarrier(port, *args)
        made.append(c)
        c.start()
        return c

    yield make
    for c in made:
        c.stop()


# ----------------------------------------------------------------------------------------------
# Raw SMPP (header + body) for what a well-behaved client library will not send

GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER = 0x00000009
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005

ESME_ROK = 0x00
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RINVSRCADR = 0x0A
ESME_RBINDFAIL = 0x0D
ESME_RTHROTTLED = 0x58


def pdu(command_id: int, seq: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body


def cstr(s: str) -> bytes:
    return s.encode("latin-1") + b"\0"


def bind_body(system_id: str, password: str) -> bytes:
    return cstr(system_id) + cstr(password) + cstr("") + bytes([0x34, 0, 0]) + cstr("")


def submit_body(source: str, dest: str, text: bytes) -> bytes:
    return (
        cstr("") + bytes([5, 0]) + cstr(source) + bytes([1, 1]) + cstr(dest)
        + bytes([0, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0, len(text)]) + text
    )


class Raw:
    """A plain TCP (or TLS) SMPP connection read PDU by PDU with deadlines."""

    def __init__(self, port: int, host: str = "127.0.0.1", wrap: Optional[Callable[[socket.socket], socket.socket]] = None):
        s = socket.create_connection((host, port), timeout=10)
        self.sock = wrap(s) if wrap else s
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float = 10.0) -> Optional[tuple[int, int, int, bytes]]:
        """(command_id, status, seq, body), or None when the peer closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 16:
                (length,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= length:
                    head, self.buf = self.buf[:length], self.buf[length:]
                    _, cid, status, seq = struct.unpack(">IIII", head[:16])
                    return cid, status, seq, head[16:]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no PDU within {timeout} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                return None
            except socket.timeout:
                raise AssertionError(f"no PDU within {timeout} s") from None
            if not chunk:
                return None
            self.buf += chunk

    def closed_within(self, timeout: float) -> bool:
        """True when the peer closes the connection within `timeout` s (PDUs read meanwhile are dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.read(max(0.05, deadline - time.monotonic())) is None:
                    return True
            except AssertionError:
                return False
        return False

    def bind(self, system_id: str, password: str, command_id: int = BIND_TRANSCEIVER, seq: int = 1) -> int:
        self.send(pdu(command_id, seq, bind_body(system_id, password)))
        r = self.read()
        assert r is not None, "closed instead of answering the bind"
        assert r[0] == command_id | 0x80000000 and r[2] == seq, r
        return r[1]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------------------------------------------
# The gateway's log and configuration


def log_lines(gateway, pattern: str) -> list[str]:
    """Lines of the gateway's log containing `pattern`."""
    try:
        text = Path(gateway.log_path).read_text(errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if pattern in line]


def wait_log(gateway, pattern: str, timeout: float, count: int = 1) -> list[str]:
    try:
        return wait_for(lambda: (lambda ls: ls if len(ls) >= count else None)(log_lines(gateway, pattern)), timeout, f"{count}× {pattern!r} in the gateway's log")
    except WaitTimeout as e:
        raise AssertionError(f"{e}\n--- log tail ---\n{gateway.log_tail(40)}") from None


def reload(gateway) -> None:
    """Write the gateway's configuration dict to its file and SIGHUP it; wait for the reload."""
    before = len(log_lines(gateway, "configuration re-read"))
    Path(gateway.config_path).write_text(to_toml(gateway.config))
    gateway.proc.send_signal(signal.SIGHUP)
    wait_log(gateway, "configuration re-read", 10, count=before + 1)


def server_bind(name: str, **keys: Any) -> dict[str, Any]:
    """A [[server_binds]] entry with system_id = name and password "pw"."""
    entry = {"name": name, "system_id": name, "password": "pw", "queue_check_frequency": 100, "enquire_link_interval": 30}
    entry.update(keys)
    return entry


# ----------------------------------------------------------------------------------------------
# Test certificates


class Pki:
    """A CA, a server certificate for localhost/127.0.0.1, a client certificate, and an
    unrelated CA, made with `openssl` (EC P-256, two days) in `directory`."""

    def __init__(self, directory: Path):
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.ca, self.ca_key = self._ca("smppgw test CA", "ca")
        self.other_ca, _ = self._ca("someone else's CA", "other-ca")
        self.server_cert, self.server_key = self._leaf("localhost", "server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        self.client_cert, self.client_key = self._leaf("partner", "client", "subjectAltName=DNS:partner.test\nextendedKeyUsage=clientAuth\n")

    def _run(self, *args: str) -> None:
        try:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.dir)
        except FileNotFoundError:
            raise AssertionError("openssl not found: install it (Debian: apt-get install openssl)") from None
        except subprocess.CalledProcessError as e:
            raise AssertionError(f"openssl {' '.join(args)} failed: {e.stderr.decode(errors='replace')}") from None

    def _ca(self, cn: str, name: str) -> tuple[Path, Path]:
        self._run(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"

    def _leaf(self, cn: str, name: str, ext: str) -> tuple[Path, Path]:
        (self.dir / f"{name}.ext").write_text(ext)
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.csr")
        self._run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", "-extfile", f"{name}.ext")
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"

    def client_context(self, with_cert: bool = False, ca: Optional[Path] = None) -> "HostnameContext":
        ctx = ssl.create_default_context(cafile=str(ca or self.ca))
        if with_cert:
            ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        return HostnameContext(ctx, "localhost")


class HostnameContext:
    """An SSLContext whose wrap_socket names the server (smpplib calls wrap_socket(sock) alone)."""

    def __init__(self, ctx: ssl.SSLContext, server_hostname: str):
        self.ctx = ctx
        self.server_hostname = server_hostname

    def wrap_socket(self, sock: socket.socket) -> ssl.SSLSocket:
        return self.ctx.wrap_socket(sock, server_hostname=self.server_hostname)
