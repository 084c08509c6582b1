"""The HTTP send API end to end: the real gateway binary with the project's SMSC simulator as
the carrier, driven the way the alerting tools of the seeds drive an SMS gateway.

- seed 000's troubleshooting `curl` (host and credentials changed) and its Apprise `json://`
  entry, against the Android SMS gateway compatible `/3rdparty/v1/message`;
- `POST /api/v1/send` with a status callback, for a 300-character alert;
- the refusals: a wrong password (401), a number that is not E.164 (400 naming it).

Every wait has a deadline and says what it waited for.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
import requests

from smpp_helpers import Gateway, Sim, free_port, unique_msisdn, wait_for

# Apprise's own imports warn on Python 3.11+ (imghdr); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

USER, PASSWORD = "alarma", "s3cret-Passw0rd"
HOOK_USER, HOOK_PASSWORD = "hub", "hub-Passw0rd"


class CallbackSink:
    """A small HTTP server that records the JSON bodies POSTed to it (status callbacks)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                with sink._lock:
                    sink.bodies.append({"path": self.path, "content_type": self.headers.get("content-type"), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, pred) -> list[dict[str, Any]]:
        with self._lock:
            return [b for b in self.bodies if pred(b)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SendStack:
    def __init__(self, gateway: Gateway, sim: Sim, sink: CallbackSink, send_port: int):
        self.gateway, self.sim, self.sink = gateway, sim, sink
        self.base = f"http://127.0.0.1:{send_port}"

    def submits_to(self, number: str) -> list[dict[str, Any]]:
        r = requests.get(self.sim.url("/submits"), timeout=5)
        r.raise_for_status()
        return [s for s in r.json() if s["destination_addr"] == number]

    def metrics(self) -> str:
        return requests.get(f"http://127.0.0.1:{self.gateway.metrics_port}/metrics", timeout=5).text


@pytest.fixture(scope="module")
def send_stack(tmp_path_factory) -> Iterator[SendStack]:
    workdir = tmp_path_factory.mktemp("send_api")
    sim = Sim(workdir, receipt_delay_ms=300)
    sim.start()
    gateway = Gateway(workdir / "gw", sim.smpp_port)
    send_port = free_port()
    sink = CallbackSink()
    gateway.config["send_api"] = {"host": "127.0.0.1", "port": send_port, "max_segments": 4}
    gateway.config["api_clients"] = [
        {"name": "alarma", "username": USER, "password": PASSWORD, "allowed_senders": ["ALERTS"]},
        # As seed 000's hub would be set up: its requests cannot name a callback, the client does.
        {"name": "hub", "username": HOOK_USER, "password": HOOK_PASSWORD, "callback_url": f"{sink.url}/hub"},
    ]
    try:
        gateway.start()
        wait_for(lambda: requests.get(sim.url("/stats"), timeout=2).json()["binds"] >= 1, 20, "the gateway to bind to the simulator")
        yield SendStack(gateway, sim, sink, send_port)
    finally:
        gateway.stop()
        sim.stop()
        sink.close()


@pytest.fixture
def api(request, send_stack: SendStack) -> SendStack:
    """The module's gateway and simulator, with the gateway's log attached to a failing test."""
    request.node._gateways = [send_stack.gateway]
    return send_stack


def seed_curl(base: str, user: str, password: str, number: str, message: str = "Test") -> tuple[int, dict[str, Any], str]:
    """Seed 000's "Tester les SMS directement" command, with our host and credentials:

        curl -X POST http://localhost:3000/3rdparty/v1/message \\
          -u username:password \\
          -H "Content-Type: application/json" \\
          -d '{"message":"Test","phoneNumbers":["+43XXXXXXXXX"]}'

    Returns the HTTP status, the JSON answer and the response headers' text.
    """
    body = json.dumps({"message": message, "phoneNumbers": [number]}, separators=(",", ":"))
    out = subprocess.run(
        ["curl", "-sS", "-D", "-", "-X", "POST", f"{base}/3rdparty/v1/message",
         "-u", f"{user}:{password}",
         "-H", "Content-Type: application/json",
         "-d", body],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    head, _, payload = out.replace("\r\n", "\n").partition("\n\n")
    status = int(head.split()[1])
    return status, json.loads(payload), head


def test_seed_000_curl_reaches_the_carrier_and_the_receipt_turns_it_delivered(api):
    number = "+43" + unique_msisdn("660")
    status, answer, head = seed_curl(api.base, HOOK_USER, HOOK_PASSWORD, number)
    assert status == 202, answer
    assert answer["state"] == "Pending"
    assert answer["recipients"] == [{"phoneNumber": number, "state": "Pending"}]
    message_id = answer["id"]
    assert f"location: /3rdparty/v1/message/{message_id}".lower() in head.lower()

    # The carrier gets one submit_sm with the same text and number (international, E.164).
    submit = wait_for(lambda: api.submits_to(number[1:]), 20, "the submit_sm at the simulator")
    assert len(submit) == 1, submit
    submit = submit[0]
    assert submit["text"] == "Test"
    assert (submit["dest_addr_ton"], submit["dest_addr_npi"]) == (1, 1)
    assert submit["registered_delivery"] == 1
    assert submit["esm_class"] == 0
    assert submit["data_coding"] == 0

    # The simulator's receipt makes it Delivered, as that API reports it.
    def state() -> dict[str, Any]:
        r = requests.get(f"{api.base}/3rdparty/v1/message/{message_id}", auth=(HOOK_USER, HOOK_PASSWORD), timeout=5)
        r.raise_for_status()
        return r.json()

    final = wait_for(lambda: (s := state())["state"] == "Delivered" and s, 20, "the state Delivered")
    assert final["recipients"] == [{"phoneNumber": number, "state": "Delivered"}]
    assert {"Pending", "Sent", "Delivered"} <= set(final["states"])

    # ... and fires the client's status callback for each change, in order.
    def callbacks() -> list[dict[str, Any]]:
        return api.sink.received(lambda b: b["body"].get("batch_id") == message_id)

    got = wait_for(lambda: len(callbacks()) >= 2 and callbacks(), 20, "the submitted and delivered callbacks")
    assert [c["body"]["status"] for c in got] == ["submitted", "delivered"]
    assert all(c["path"] == "/hub" and c["content_type"] == "application/json" for c in got)
    assert got[0]["body"]["smsc_message_ids"] == [submit["message_id"]]
    assert got[1]["body"]["to"] == number

    # Seed 000's connection check (GET with the same credentials) lists it.
    r = requests.get(f"{api.base}/3rdparty/v1/message", auth=(HOOK_USER, HOOK_PASSWORD), timeout=5)
    assert r.status_code == 200
    assert message_id in [m["id"] for m in r.json()]


def test_a_wrong_password_gets_401_and_is_counted(api):
    number = "+43" + unique_msisdn("660")
    before = api.metrics()
    status, answer, head = seed_curl(api.base, USER, "not-the-password", number)
    assert status == 401, answer
    assert "www-authenticate: basic" in head.lower()
    assert "authentication failed" in answer["message"]
    line = 'smppgw_http_auth_failures_total{client="alarma"}'

    def count(text: str) -> float:
        return sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith(line))

    wait_for(lambda: count(api.metrics()) == count(before) + 1, 10, f"{line} to count the failure")
    assert "wrong password" in api.gateway.log_tail(200)
    assert "not-the-password" not in api.gateway.log_tail(2000)
    assert not api.submits_to(number[1:])


def test_an_invalid_number_gets_400_naming_it(api):
    # Seed 000's placeholder, left as it is, is not a number.
    status, answer, _ = seed_curl(api.base, USER, PASSWORD, "+43XXXXXXXXX")
    assert status == 400, answer
    assert answer["field"] == "phoneNumbers[0]"
    assert "+43XXXXXXXXX" in answer["message"]
    r = requests.post(f"{api.base}/api/v1/send", auth=(USER, PASSWORD), timeout=5,
                      json={"to": ["+33612345678", "0612345678"], "text": "hello"})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "to[1]"
    assert "0612345678" in r.json()["error"]


def test_300_gsm_characters_go_out_as_two_concatenated_segments_reported_as_one(api):
    number = unique_msisdn("336")
    text = ("ALERTE: le serveur DC01 est inaccessible depuis 25 min, ping et SNMP en echec; "
            "verifier l'alimentation et le lien fibre. ") * 3
    text = text[:300]
    assert len(text) == 300
    r = requests.post(f"{api.base}/api/v1/send", auth=(USER, PASSWORD), timeout=10,
                      json={"to": ["+" + number], "text": text, "from": "ALERTS",
                            "callback_url": f"{api.sink.url}/long", "reference": "INC-300"})
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["segments"] == 2
    assert len(answer["messages"]) == 1, "one recipient, one message"
    send_id = answer["messages"][0]["id"]

    parts = wait_for(lambda: len(s := api.submits_to(number)) >= 2 and s, 20, "two submit_sm at the simulator")
    assert len(parts) == 2, parts
    by_seq = sorted(parts, key=lambda p: bytes.fromhex(p["short_message_hex"][:12])[5])
    refs = set()
    for seq, part in enumerate(by_seq, start=1):
        assert part["esm_class"] & 0x40, "UDHI"
        assert part["data_coding"] == 0
        assert (part["source_addr"], part["source_addr_ton"]) == ("ALERTS", 5)
        udh = bytes.fromhex(part["short_message_hex"][:12])
        assert udh[:3] == b"\x05\x00\x03" and udh[4] == 2 and udh[5] == seq, udh.hex()
        refs.add(udh[3])
    assert len(refs) == 1, "both parts share one reference"
    assert by_seq[0]["text"] + by_seq[1]["text"] == text

    def record() -> dict[str, Any]:
        r = requests.get(f"{api.base}/api/v1/send/{send_id}", auth=(USER, PASSWORD), timeout=5)
        r.raise_for_status()
        return r.json()

    done = wait_for(lambda: (s := record())["status"] == "delivered" and s, 20, "the send to be delivered")
    assert done["segments"] == 2 and len(done["parts"]) == 2
    assert [h["status"] for h in done["history"]] == ["queued", "submitted", "delivered"]
    assert sorted(done["history"][1]["smsc_message_ids"]) == sorted(p["message_id"] for p in parts)
    got = wait_for(lambda: len(c := api.sink.received(lambda b: b["body"].get("id") == send_id)) >= 2 and c,
                   20, "the callbacks of the long send")
    assert [c["body"]["status"] for c in got] == ["submitted", "delivered"]
    assert all(c["body"]["reference"] == "INC-300" and c["body"]["segments"] == 2 for c in got)


SEED_000_APPRISE_YAML = """\
# Configuration multi-canal pour Alarma! - Organisation Exemple
version: 1

urls:
  # SMS via passerelle Android
  - json://{host}/3rdparty/v1/message:
      headers:
        Authorization: Basic {basic}
        Content-Type: application/json
      method: POST
      payload: {payload}
      tag: sms, critique, urgence
"""

# Seed 000 writes the payload as a YAML block of JSON text; Apprise (1.9 and 2.2 alike) cannot
# read that and drops the whole entry. Apprise's own form is a mapping of the members to add;
# it already sends `title` and `message` (the body) itself, which the gateway joins as
# "title: body" — what the seed's "{{title}}: {{body}}" template meant.
SEED_PAYLOAD_AS_WRITTEN = """|
        {{
          "message": "{{{{title}}}}: {{{{body}}}}",
          "phoneNumbers": ["{number}"]
        }}"""
APPRISE_PAYLOAD = """
        phoneNumbers: ["{number}"]"""


def apprise_config(api: SendStack, payload: str, number: str):
    import apprise

    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    text = SEED_000_APPRISE_YAML.format(host=api.base.removeprefix("http://"), basic=basic,
                                        payload=payload.format(number=number))
    config = apprise.AppriseConfig()
    assert config.add_config(text, format="yaml")
    hub = apprise.Apprise()
    hub.add(config)
    return hub


def test_seed_000_apprise_payload_as_written_is_refused_by_apprise_itself(api):
    hub = apprise_config(api, SEED_PAYLOAD_AS_WRITTEN, "+4366000000000")
    assert len(hub) == 0, "Apprise now reads a JSON-text payload: test the seed's entry unchanged"


def test_seed_000_apprise_entry_sends_through_the_gateway(api):
    number = "+43" + unique_msisdn("660")
    hub = apprise_config(api, APPRISE_PAYLOAD, number)
    assert len(hub) == 1
    assert hub.notify(title="Serveur DOWN", body="Serveur principal inaccessible", tag="sms")
    submit = wait_for(lambda: api.submits_to(number[1:]), 20, "Apprise's SMS at the simulator")
    assert [s["text"] for s in submit] == ["Serveur DOWN: Serveur principal inaccessible"]
    # The entry is tagged: a notification for another tag does not reach it (seed 000's routing).
    assert not hub.notify(title="info", body="routine", tag="info")


def test_apprise_url_form_works_too(api):
    import apprise

    numbers = ["+43" + unique_msisdn("660"), "+43" + unique_msisdn("660")]
    hub = apprise.Apprise()
    host = api.base.removeprefix("http://")
    assert hub.add(f"json://{USER}:{PASSWORD}@{host}/3rdparty/v1/message?:phoneNumbers={','.join(numbers)}")
    assert hub.notify(body="Centre de donnees hors ligne")
    for n in numbers:
        got = wait_for(lambda: api.submits_to(n[1:]), 20, f"the SMS to {n}")
        assert [s["text"] for s in got] == ["Centre de donnees hors ligne"]
