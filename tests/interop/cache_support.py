"""Support of the retry cache tests (`test_cache*.py`).

- `StubCore`: a minimal messaging core written from `docs/core-api.yaml` only.
- `configure_cache_gateway`: a `Gateway` configured with the cache on, against a core URL.
- `admin`, `cache_summary`, `metric`: the admin API and `/metrics` of a running gateway.
- `pipelined_submits`: an smpplib partner that keeps a window of `submit_sm` in flight and
  records every answer, for crash tests.

`StubCore` runs in the test process on its own port, so a test can stop it (connections refused),
start it again on the same port with what it stored, make an endpoint answer 503, or refuse
message ids with 422 — which the embedded core inside smppgw cannot do independently of the
gateway. It keeps:

- `stored`: every message stored, once per id (the idempotency the core API requires of any
  core), in the order they first arrived;
- `posts`: every message id in every `POST /api/v1/messages`, duplicates included, in order;
- `events`: every event received, in order.

Claims hand out the messages of `outbound[bind]` once each. A hand-over naming an id of
`refuse_ids` or a text of `refuse_texts` is refused with 422 (a core refusing a bad message).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import requests
import smpplib.client
import smpplib.exceptions

from smpp_helpers import Gateway, gsm_encode, smppgw_bin

ADMIN_TOKEN = "cache-test-token"


class StubCore:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.lock = threading.Lock()
        self.stored: dict[str, dict[str, Any]] = {}
        self.posts: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.outbound: dict[str, list[dict[str, Any]]] = {}
        self.refuse_ids: set[str] = set()
        self.refuse_texts: set[str] = set()
        self.events_down = False
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        core = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a stop closes them all

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/api/v1/system/health":
                    self._answer(200, {"status": "ok"})
                else:
                    self._answer(404, {"error": f"no route {self.path}"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError as e:
                    self._answer(400, {"error": f"not JSON: {e}"})
                    return
                status, answer = core._handle(self.path, body)
                self._answer(status, answer)

        # Stopped and started on the same port in quick succession; a backlog large enough for
        # a gateway's burst of connections (the default 5 drops SYNs: 1 s retransmits).
        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.request_queue_size = 128
        deadline = time.monotonic() + 10
        while True:
            try:
                self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop answering: the port is closed, connections are refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- the API ---------------------------------------------------------------------------

    def _handle(self, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/v1/messages":
            messages = body["messages"] if "messages" in body else [body]
            with self.lock:
                refused = [m["id"] for m in messages if m["id"] in self.refuse_ids or m.get("text") in self.refuse_texts]
                if refused:
                    return 422, {"error": f"refused: {', '.join(refused)}", "field": "id"}
                accepted = []
                for m in messages:
                    self.posts.append(m["id"])
                    if m["id"] in self.stored:
                        accepted.append({"id": m["id"], "status": "duplicate"})
                    else:
                        self.stored[m["id"]] = m
                        accepted.append({"id": m["id"], "status": "stored"})
            return 200, {"accepted": accepted}
        if path == "/api/v1/events" or (path.startswith("/api/v1/messages/") and path.endswith("/events")):
            if self.events_down:
                return 503, {"error": "events unavailable"}
            events = body["events"] if "events" in body else [body]
            with self.lock:
                self.events.extend(events)
            return 200, {"ok": True}
        if path == "/api/v1/queue/claim":
            bind = body.get("dest_smsc") or body.get("source_smsc") or ""
            with self.lock:
                queue = self.outbound.get(bind, [])
                limit = int(body.get("limit") or 1)
                out, self.outbound[bind] = queue[:limit], queue[limit:]
            lease = int(time.time() * 1000) + 60_000
            return 200, {"messages": [dict(m, lease_until_ms=lease) for m in out]}
        if path == "/api/v1/frontends/register":
            return 200, {"ok": True}
        return 404, {"error": f"no route {path}"}

    # -- what tests read -------------------------------------------------------------------

    def snapshot(self) -> tuple[list[str], dict[str, dict[str, Any]], list[dict[str, Any]]]:
        with self.lock:
            return list(self.posts), dict(self.stored), list(self.events)

    def stored_texts(self) -> list[str]:
        with self.lock:
            return [m.get("text") or "" for m in self.stored.values()]

    def queue_mt(self, bind: str, msg_id: str, destination: str, text: str) -> None:
        """Queue one MT for client bind `bind`; the next claim hands it out."""
        import base64

        payload = gsm_encode(text)
        with self.lock:
            self.outbound.setdefault(bind, []).append(
                {
                    "id": msg_id,
                    "kind": "mt",
                    "source": {"addr": "33600000001", "ton": 1, "npi": 1},
                    "destination": {"addr": destination, "ton": 1, "npi": 1},
                    "registered_delivery": 0,
                    "data_coding": 0,
                    "payload": base64.b64encode(payload).decode(),
                    "text": text,
                    "attempts": 1,
                }
            )


# ----------------------------------------------------------------------------------------------
# The gateway under test


def configure_cache_gateway(
    gw: Gateway,
    core_url: str,
    *,
    partners: tuple[str, ...] = ("partner",),
    cache_max_size: int = 10_000,
    cache_retry_interval: int = 1,
    carrier_cache: bool = True,
    carrier_enabled: bool = True,
    **globals_: Any,
) -> Gateway:
    """Point `gw` at `core_url` with the retry cache on for every partner in `partners` (its
    name is its system_id, the password is "pw") and, with `carrier_cache`, for the carrier
    bind; flush every 100 ms; `globals_` override top-level keys."""
    c = gw.config
    c["api_base_url"] = core_url
    for key in ("embedded_core", "routes", "mo_routes"):
        c.pop(key, None)
    c["cache_flush_interval"] = 100
    c["core_timeout_ms"] = 2000
    c["admin"]["token"] = ADMIN_TOKEN
    c.update(globals_)
    template = dict(c["server_binds"][0])
    # No TPS limit in the way of a load (the shared template's 100/s would throttle).
    template.update(cache_enabled=True, cache_max_size=cache_max_size, cache_retry_interval=cache_retry_interval, tps_limit=10_000)
    c["server_binds"] = [dict(template, name=p, system_id=p) for p in partners]
    carrier = c["binds"][0]
    carrier.update(cache_enabled=carrier_cache, cache_max_size=cache_max_size, cache_retry_interval=cache_retry_interval,
                   enabled=carrier_enabled)
    return gw


def admin(gw: Gateway, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"http://127.0.0.1:{gw.admin_port}{path}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
        **kwargs,
    )


def cache_summary(gw: Gateway) -> dict[str, Any]:
    r = admin(gw, "GET", "/api/v1/cache")
    r.raise_for_status()
    return r.json()


def bind_line(gw: Gateway, bind: str) -> dict[str, Any]:
    for line in cache_summary(gw)["binds"]:
        if line["bind_name"] == bind:
            return line
    raise AssertionError(f"no line for {bind} in {cache_summary(gw)}")


def cache_entries(gw: Gateway, bind: str, status: Optional[str] = None) -> list[dict[str, Any]]:
    params = {"limit": 10_000}
    if status:
        params["status"] = status
    r = admin(gw, "GET", f"/api/v1/cache/{bind}/entries", params=params)
    r.raise_for_status()
    return r.json()["entries"]


def metric(gw: Gateway, name: str, **labels: str) -> float:
    """The value of one sample of `/metrics` (0.0 when absent)."""
    text = requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=5).text
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return 0.0


def run_cli(gw: Gateway, *args: str) -> subprocess.CompletedProcess:
    """`smppgw cache --config <gw's file> ARGS…`, output captured."""
    return subprocess.run(
        [str(smppgw_bin()), "cache", "--config", str(gw.config_path), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


# ----------------------------------------------------------------------------------------------
# A partner with a window


class Answer:
    def __init__(self, text: str, status: Optional[int], message_id: str):
        self.text, self.status, self.message_id = text, status, message_id

    def __repr__(self) -> str:
        return f"Answer({self.text!r}, status={self.status}, id={self.message_id!r})"


def pipelined_submits(
    port: int,
    system_id: str,
    texts: list[str],
    *,
    window: int = 10,
    on_answer=None,
    timeout: float = 30.0,
) -> tuple[list[Answer], list[str]]:
    """Bind as transmitter and submit `texts` in order, keeping up to `window` submit_sm in
    flight. Returns the answers (in order received) and the texts sent but never answered
    (the connection dropped). `on_answer(n_ok)` is called after each answer."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=timeout, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transmitter(system_id=system_id, password="pw")
    in_flight: dict[int, str] = {}
    answers: list[Answer] = []
    queue = list(texts)
    ok = 0
    try:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                text = queue.pop(0)
                pdu = client.send_message(
                    source_addr_ton=1, source_addr_npi=1, source_addr="33600000001",
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr="33700000001",
                    short_message=gsm_encode(text), data_coding=0, registered_delivery=0,
                )
                in_flight[pdu.sequence] = text
            pdu = client.read_pdu()
            if pdu.command == "enquire_link":
                resp = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
                resp.sequence = pdu.sequence
                client.send_pdu(resp)
                continue
            if pdu.command != "submit_sm_resp" or pdu.sequence not in in_flight:
                continue
            text = in_flight.pop(pdu.sequence)
            mid = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else (pdu.message_id or "")
            answers.append(Answer(text, pdu.status, mid))
            if pdu.status == 0:
                ok += 1
            if on_answer:
                on_answer(ok)
    except (smpplib.exceptions.ConnectionError, OSError, smpplib.exceptions.PDUError):
        pass  # the gateway went away (a crash test killed it): what is in flight stays unanswered
    finally:
        try:
            client.disconnect()
        except OSError:
            pass
    return answers, list(in_flight.values())
