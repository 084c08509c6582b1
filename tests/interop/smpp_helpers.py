"""Helpers of the interoperability tests: processes under test, SMPP peers we did not write,
waiting with deadlines, GSM 03.38 text and a small TOML writer.

Nothing here asserts by sleeping: every wait has a condition and a deadline, and fails with a
message that says what was awaited and what was seen instead.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import requests
import smpplib.client
import smpplib.consts
import smpplib.exceptions

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
NODE_DIR = HERE / "node"

# ----------------------------------------------------------------------------------------------
# Waiting


class WaitTimeout(AssertionError):
    """A condition did not come true before its deadline."""


def wait_for(cond: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `cond` until it returns a truthy value, which is returned; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        try:
            value = cond()
            if value:
                return value
        except (requests.RequestException, OSError, ValueError) as e:  # not up yet
            last_error = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_error!r})" if last_error else ""
            raise WaitTimeout(f"timed out after {timeout:.1f} s waiting for {what}{extra}")
        time.sleep(interval)


def assert_holds(cond: Callable[[], bool], duration: float, what: str, interval: float = 0.1) -> None:
    """Check that `cond` stays true during `duration` s (e.g. "no second copy arrives")."""
    deadline = time.monotonic() + duration
    while True:
        if not cond():
            raise AssertionError(f"no longer true: {what}")
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports (held open together while they are picked)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------
# Text

# GSM 03.38 default alphabet, septet value = index (3GPP TS 23.038 §6.2.1).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(GSM_BASIC) == 128
# Extension table: ESC (0x1B) then this code.
GSM_EXT = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}
GSM_EXT_BY_CODE = {v: k for k, v in GSM_EXT.items()}


def gsm_encode(text: str) -> bytes:
    """GSM 03.38 unpacked (one septet per octet), extension characters as ESC + code."""
    out = bytearray()
    for ch in text:
        if ch in GSM_EXT:
            out += bytes([0x1B, GSM_EXT[ch]])
        elif ch != "\x1b" and ch in GSM_BASIC:
            out.append(GSM_BASIC.index(ch))
        else:
            raise ValueError(f"{ch!r} is not in GSM 03.38")
    return bytes(out)


def gsm_decode(data: bytes) -> str:
    """Inverse of gsm_encode."""
    out = []
    i = 0
    while i < len(data):
        b = data[i] & 0x7F
        if b == 0x1B and i + 1 < len(data):
            code = data[i + 1] & 0x7F
            out.append(GSM_EXT_BY_CODE.get(code, GSM_BASIC[code]))
            i += 2
            continue
        out.append(" " if b == 0x1B else GSM_BASIC[b])
        i += 1
    return "".join(out)


def encode_text(text: str, data_coding: int) -> bytes:
    """The octets of `text` in `data_coding` 0 (GSM), 1 (ASCII), 3 (Latin-1) or 8 (UCS-2)."""
    if data_coding == 0:
        return gsm_encode(text)
    if data_coding == 1:
        return text.encode("ascii")
    if data_coding == 3:
        return text.encode("latin-1")
    if data_coding == 8:
        return text.encode("utf-16-be")
    raise ValueError(f"no text encoding for data_coding {data_coding}")


def decode_text(data: bytes, data_coding: int) -> str:
    """Inverse of encode_text."""
    if data_coding == 0:
        return gsm_decode(data)
    if data_coding == 1:
        return data.decode("ascii")
    if data_coding == 3:
        return data.decode("latin-1")
    if data_coding == 8:
        return data.decode("utf-16-be")
    raise ValueError(f"no text decoding for data_coding {data_coding}")


def as_str(value: Any) -> str:
    """smpplib gives C-strings as bytes; compare them as text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def receipt_fields(text: str) -> dict[str, str]:
    """The key:value fields of a receipt text (keys lower-cased; `text` is the whole tail)."""
    fields: dict[str, str] = {}
    head = text
    m = re.search(r"(?i)(?<![a-z])text:(.*)$", text, re.S)
    if m:
        fields["text"] = m.group(1)
        head = text[: m.start()]
    for m in re.finditer(r"(?i)(?<![a-z])(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", head):
        fields[m.group(1).lower()] = m.group(2)
    return fields


# ----------------------------------------------------------------------------------------------
# TOML (only what the gateway configuration needs: scalars, lists, tables, arrays of tables)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(doc: dict[str, Any]) -> str:
    """Write a configuration dict: top-level scalars, then tables, then arrays of tables."""
    lines: list[str] = []
    for k, v in doc.items():
        if not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict)):
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines.extend(f"{ik} = {_toml_value(iv)}" for ik, iv in v.items())
    for k, v in doc.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for entry in v:
                lines.append(f"\n[[{k}]]")
                lines.extend(f"{ik} = {_toml_value(iv)}" for ik, iv in entry.items())
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# The gateway under test


def smppgw_bin() -> Path:
    """The smppgw binary: $SMPPGW_BIN, else <repo>/target/debug/smppgw."""
    return Path(os.environ.get("SMPPGW_BIN") or REPO / "target" / "debug" / "smppgw")


def tail(path: Path, n: int = 60) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


class Gateway:
    """One `smppgw run --config PATH` process with a configuration generated in `workdir`."""

    def __init__(self, workdir: Path, carrier_port: int, *, api_base_url: str = "embedded"):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.smpp_port, self.metrics_port, self.admin_port, self.core_port = free_ports(4)
        self.carrier_port = carrier_port
        self.config: dict[str, Any] = {
            "api_base_url": api_base_url,
            "smsc_name": "smppgw_test",
            "data_dir": str(workdir / "data"),
            "core_timeout_ms": 2000,
            "listen": {"host": "127.0.0.1", "port": self.smpp_port, "max_connections": 100},
            "metrics": {"host": "127.0.0.1", "port": self.metrics_port},
            "admin": {"host": "127.0.0.1", "port": self.admin_port},
            "embedded_core": {"host": "127.0.0.1", "port": self.core_port, "lease_seconds": 5},
            "log": {"level": "info"},
            "routes": [{"prefix": "", "dest_smsc": "carrier"}],
            "mo_routes": [{"prefix": "", "source_smsc": "partner"}],
            "binds": [
                {
                    "name": "carrier",
                    "bind_type": "transceiver",
                    "host": "127.0.0.1",
                    "port": carrier_port,
                    "system_id": "gw",
                    "password": "secret",
                    "system_type": "",
                    "addr_ton": 0,
                    "addr_npi": 0,
                    "address_range": "",
                    "tps_limit": 100,
                    "queue_check_frequency": 100,
                    "enquire_link_interval": 30,
                    # Not the seed's 30 s: the tests start carriers after the gateway.
                    "reconnect_interval": 1,
                    "enabled": True,
                }
            ],
            "server_binds": [
                {
                    "name": "partner",
                    "system_id": "partner",
                    "password": "pw",
                    "allowed_bind_types": ["transmitter", "receiver", "transceiver"],
                    "ip_whitelist": [],
                    "source_address_whitelist": [],
                    "tps_limit": 100,
                    "queue_check_frequency": 100,
                    "enquire_link_interval": 30,
                    "enabled": True,
                },
                {
                    "name": "txonly",
                    "system_id": "txonly",
                    "password": "pw",
                    "allowed_bind_types": ["transmitter"],
                    "tps_limit": 100,
                    "queue_check_frequency": 100,
                    "enquire_link_interval": 30,
                    "enabled": True,
                },
                {
                    "name": "switched_off",
                    "system_id": "off",
                    "password": "pw",
                    "allowed_bind_types": ["transmitter", "receiver", "transceiver"],
                    "tps_limit": 100,
                    "queue_check_frequency": 100,
                    "enquire_link_interval": 30,
                    "enabled": False,
                },
            ],
        }
        if api_base_url != "embedded":
            del self.config["embedded_core"]
            del self.config["routes"]
            del self.config["mo_routes"]
        self.config_path = workdir / "smppgw.toml"
        self.log_path = workdir / "smppgw.log"
        self.proc: Optional[subprocess.Popen] = None
        self.starts = 0
        # Run in the child before exec (e.g. resource limits of a disk-full test).
        self.preexec_fn: Optional[Callable[[], None]] = None

    @property
    def embedded(self) -> bool:
        return self.config["api_base_url"] == "embedded"

    def core_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.core_port}{path}"

    def start(self, timeout: float = 30.0) -> None:
        binary = smppgw_bin()
        if not binary.is_file():
            raise AssertionError(f"smppgw binary not found at {binary} (build it, or set SMPPGW_BIN)")
        self.config_path.write_text(to_toml(self.config))
        self.starts += 1
        log = open(self.log_path, "a")
        log.write(f"\n===== start #{self.starts}: {binary} run --config {self.config_path}\n")
        log.flush()
        env = dict(os.environ, NO_COLOR="1")
        env.setdefault("RUST_BACKTRACE", "1")
        self.proc = subprocess.Popen(
            [str(binary), "run", "--config", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            cwd=self.workdir,
            preexec_fn=self.preexec_fn,
        )
        log.close()

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"smppgw exited with {self.proc.returncode} while starting:\n{tail(self.log_path)}"
                )
            if not port_open(self.smpp_port):
                return False
            if self.embedded:
                r = requests.get(self.core_url("/api/v1/system/health"), timeout=1)
                return r.status_code == 200
            return True

        try:
            wait_for(ready, timeout, f"smppgw to listen on {self.smpp_port}")
        except WaitTimeout as e:
            raise AssertionError(f"{e}\n--- smppgw log ---\n{tail(self.log_path)}") from None

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """SIGTERM, wait for the exit (SIGKILL after `timeout`); returns the exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
                raise AssertionError(f"smppgw did not stop within {timeout} s of SIGTERM")
        return proc.returncode

    def mt_messages(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The embedded core's MT list (`GET /api/v1/messages?direction=mt&limit=N`)."""
        r = requests.get(self.core_url("/api/v1/messages"), params={"direction": "mt", "limit": limit}, timeout=5)
        r.raise_for_status()
        body = r.json()
        if isinstance(body, dict):
            for key in ("messages", "items", "data"):
                if isinstance(body.get(key), list):
                    return body[key]
            raise AssertionError(f"unexpected shape of the MT list: {str(body)[:300]}")
        return body

    def log_tail(self, n: int = 80) -> str:
        return tail(self.log_path, n)


# ----------------------------------------------------------------------------------------------
# The carrier: an SMSC built on Node `smpp`


class NodeSmsc:
    """`node tests/interop/node/smsc.js` with its JSON events collected from stdout."""

    def __init__(self, port: int, system_id: str = "gw", password: str = "secret", receipt_delay_ms: int = 300):
        self.port = port
        self.args = [
            "--port", str(port), "--system-id", system_id, "--password", password,
            "--receipt-delay-ms", str(receipt_delay_ms),
        ]
        self.events: list[dict[str, Any]] = []
        self.stderr_lines: list[str] = []
        self._lock = threading.Lock()
        self.proc: Optional[subprocess.Popen] = None
        # The Node script run (subclasses run other carriers with the same event protocol).
        self.script = "smsc.js"

    def start(self, timeout: float = 15.0) -> None:
        script = NODE_DIR / self.script
        if not (NODE_DIR / "node_modules" / "smpp").is_dir():
            raise AssertionError(f"Node package 'smpp' missing: run `npm ci` in {NODE_DIR}")
        self.proc = subprocess.Popen(
            ["node", str(script), *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        threading.Thread(target=self._read_stdout, args=(self.proc,), daemon=True).start()
        threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True).start()
        self.wait_event(lambda e: e["event"] == "listening", timeout, "the Node SMSC to listen")

    def _read_stdout(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "garbage", "line": line}
            with self._lock:
                self.events.append(event)

    def _read_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            with self._lock:
                self.stderr_lines.append(line.rstrip())

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def find(self, pred: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [e for e in self.snapshot() if pred(e)]

    def wait_event(self, pred: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        def found():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"the Node SMSC exited ({self.proc.returncode}): {self.stderr_lines[-20:]}")
            hits = self.find(pred)
            return hits[0] if hits else None

        try:
            return wait_for(found, timeout, what)
        except WaitTimeout as e:
            raise AssertionError(f"{e}\nNode SMSC events: {self.snapshot()[-15:]}") from None

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def bound(self) -> bool:
        """Whether some session bound successfully and is still open."""
        opened: set[int] = set()
        for e in self.snapshot():
            if e["event"] == "bind" and e.get("ok"):
                opened.add(e["session"])
            elif e["event"] in ("close", "unbind"):
                opened.discard(e.get("session"))
        return bool(opened)

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


# ----------------------------------------------------------------------------------------------
# The partner: an ESME built on Python smpplib


class Partner:
    """A synchronous smpplib client with deadline-based reads.

    Every `deliver_sm` read on the way is answered (ESME_ROK) and kept in `self.delivered`.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.client = smpplib.client.Client(host, port, timeout=timeout, allow_unknown_opt_params=True)
        self.delivered: list[Any] = []
        self.client.connect()

    def bind(self, kind: str, system_id: str, password: str) -> Any:
        """bind_transmitter / bind_receiver / bind_transceiver; smpplib raises PDUError on refusal."""
        method = getattr(self.client, f"bind_{kind}")
        return method(system_id=system_id, password=password, system_type="", interface_version=0x34)

    def _read_one(self, timeout: float) -> Optional[Any]:
        sock = self.client._socket
        if sock is None:
            raise AssertionError("the partner's connection is closed")
        readable, _, _ = select.select([sock], [], [], max(0.0, timeout))
        if not readable:
            return None
        pdu = self.client.read_pdu()
        if pdu.command == "deliver_sm":
            self.delivered.append(pdu)
            resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=self.client)
            resp.sequence = pdu.sequence
            self.client.send_pdu(resp)
        elif pdu.command == "enquire_link":
            resp = smpplib.smpp.make_pdu("enquire_link_resp", client=self.client)
            resp.sequence = pdu.sequence
            self.client.send_pdu(resp)
        return pdu

    def read_until(self, pred: Callable[[Any], bool], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what}; read: {seen[-10:]}")
            pdu = self._read_one(remaining)
            if pdu is None:
                continue
            seen.append(f"{pdu.command}(status={pdu.status}, seq={pdu.sequence})")
            if pred(pdu):
                return pdu

    def submit(self, *, short_message: bytes, data_coding: int = 0, timeout: float = 15.0, **fields: Any) -> Any:
        """submit_sm; returns the submit_sm_resp PDU (any status: check `.status`)."""
        params = dict(
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="33600000001",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="33700000001",
            registered_delivery=1,
        )
        params.update(fields)
        pdu = self.client.send_message(short_message=short_message, data_coding=data_coding, **params)
        seq = pdu.sequence
        return self.read_until(
            lambda p: p.command == "submit_sm_resp" and p.sequence == seq, timeout, f"submit_sm_resp #{seq}"
        )

    def wait_deliver(self, pred: Callable[[Any], bool], timeout: float, what: str) -> Any:
        for pdu in self.delivered:
            if pred(pdu):
                return pdu
        return self.read_until(lambda p: p.command == "deliver_sm" and pred(p), timeout, what)

    def close(self) -> None:
        if self.client._socket is None:
            return
        try:
            if self.client.state in (
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
            ):
                self.client.unbind()
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
            pass
        try:
            self.client.disconnect()
        except OSError:
            pass


class Sim:
    """`smppgw sim smsc --listen ... --control ...`: the project's own SMSC simulator."""

    def __init__(self, workdir: Path, system_id: str = "gw", password: str = "secret", receipt_delay_ms: int = 200):
        self.smpp_port, self.control_port = free_ports(2)
        self.log_path = workdir / "sim.log"
        self.args = [
            "sim", "smsc",
            "--listen", f"127.0.0.1:{self.smpp_port}",
            "--control", f"127.0.0.1:{self.control_port}",
            "--system-id", system_id,
            "--password", password,
            "--receipt-delay-ms", str(receipt_delay_ms),
        ]
        self.proc: Optional[subprocess.Popen] = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.control_port}{path}"

    def start(self, timeout: float = 20.0) -> None:
        binary = smppgw_bin()
        if not binary.is_file():
            raise AssertionError(f"smppgw binary not found at {binary} (build it, or set SMPPGW_BIN)")
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [str(binary), *self.args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=dict(os.environ, NO_COLOR="1"),
        )
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"the simulator exited with {self.proc.returncode}:\n{tail(self.log_path)}")
            return port_open(self.smpp_port) and requests.get(self.url("/stats"), timeout=1).ok

        wait_for(ready, timeout, "the simulator to listen")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)



# ----------------------------------------------------------------------------------------------
# Test data

ULID_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_numbers = iter(range(1_000_000))
_base = int(time.time() * 1000) % 90_000 * 10


def unique_msisdn(prefix: str = "336") -> str:
    """A phone number no other test of this run uses (11 digits)."""
    return f"{prefix}{_base + next(_numbers):08d}"
