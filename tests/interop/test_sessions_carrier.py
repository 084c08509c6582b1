"""Client binds (smppgw as ESME) against a carrier built on Node `smpp` that misbehaves on
purpose (node/session_smsc.js): refused binds retried on a schedule and logged, the staggered
start, the carrier's unbind, a carrier that stops answering enquire_link, throttling, a
response that never comes (retry or fail), and disabling a bind."""

from __future__ import annotations

import time

import pytest

from session_peers import carriers  # noqa: F401  (a fixture)
from session_peers import log_lines, reload, wait_log
from smpp_helpers import Gateway, as_str, free_port, unique_msisdn, wait_for


def gateway_for(gateway_factory, port: int, **bind_keys) -> Gateway:
    g = gateway_factory(port)
    g.config["embedded_core"]["lease_seconds"] = 30
    g.config["binds"][0].update(bind_keys)
    return g


def submit(gateway: Gateway, partner_factory, text: str):
    p = partner_factory(gateway.smpp_port)
    p.bind("transmitter", "partner", "pw")
    resp = p.submit(short_message=text.encode(), source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0)
    assert resp.status == 0, f"{resp.status:#x}"
    return as_str(resp.message_id)


def core_status(gateway: Gateway, message_id: str) -> str:
    for m in gateway.mt_messages():
        if m.get("id") == message_id:
            return m.get("status", "")
    return ""


def test_refused_binds_are_retried_on_a_growing_schedule_each_reason_logged(gateway_factory, carriers):
    port = free_port()
    carrier = carriers(port, "--refuse-binds", "3")
    g = gateway_for(gateway_factory, port, reconnect_interval=1, reconnect_max_interval=3)
    g.start()
    binds = carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 30, "a successful bind after three refusals")
    attempts = [e["t"] / 1000 for e in carrier.of("bind")]
    assert len(attempts) == 4, carrier.of("bind")
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    # 1 s, 2 s, then the 3 s cap (plus connect time): never a tight loop.
    for gap, want in zip(gaps, [1, 2, 3]):
        assert want - 0.2 <= gap <= want + 1.5, f"gaps {gaps}"
    refused = wait_log(g, "ESME_RINVPASWD", 5, count=3)
    assert all("next attempt in" in line for line in refused), refused
    assert binds[0]["ok"]


def test_client_binds_start_500_ms_apart(gateway_factory, carriers):
    port = free_port()
    carrier = carriers(port)
    g = gateway_for(gateway_factory, port)
    first = g.config["binds"][0]
    g.config["binds"] = [dict(first, name=f"carrier{i}") for i in range(3)]
    g.config["routes"] = [{"prefix": "", "dest_smsc": "carrier0"}]
    g.start()
    binds = carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "three binds", count=3)
    times = sorted(e["t"] for e in binds[:3])
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:])]
    assert all(gap >= 0.4 for gap in gaps), f"binds not staggered: gaps {gaps}"


def test_the_carriers_unbind_is_answered_and_the_bind_rebuilt(gateway_factory, carriers):
    port = free_port()
    carrier = carriers(port)
    g = gateway_for(gateway_factory, port, reconnect_interval=1)
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the first bind")
    carrier.send({"cmd": "unbind"})
    sent = carrier.wait(lambda e: e["event"] == "unbind_sent", 5, "our unbind")[0]
    answer = carrier.wait(lambda e: e["event"] == "unbind_resp", 5, "the gateway's unbind_resp")[0]
    assert (answer["sequence_number"], answer["command_status"]) == (sent["sequence_number"], 0)
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 10, "the bind rebuilt", count=2)
    wait_log(g, "peer sent unbind", 5)


def test_a_carrier_that_stops_answering_enquire_link_is_dropped_and_rebound(gateway_factory, carriers):
    port = free_port()
    carrier = carriers(port, "--ignore-enquire")
    g = gateway_for(gateway_factory, port, reconnect_interval=1, enquire_link_interval=1, enquire_link_timeout=1)
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the first bind")
    carrier.wait(lambda e: e["event"] == "enquire_link", 5, "an enquire_link")
    carrier.wait(lambda e: e["event"] == "close", 6, "the gateway to close the dead link")
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 10, "a new bind", count=2)
    wait_log(g, "enquire_link timeout", 5)


def test_a_throttling_carrier_gets_every_message_once_accepted_in_order(gateway_factory, carriers, partner_factory):
    port = free_port()
    carrier = carriers(port, "--throttle", "2")
    g = gateway_for(gateway_factory, port)
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the bind")
    p = partner_factory(g.smpp_port)
    p.bind("transmitter", "partner", "pw")
    texts = [f"t{i}-{unique_msisdn('9')}" for i in range(5)]
    ids = []
    resp = p.submit(short_message=texts[0].encode(), source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0)
    ids.append(as_str(resp.message_id))
    # The rest arrive while the bind is paused by the carrier's throttling.
    carrier.wait(lambda e: e["event"] == "submit_sm" and e["answered"] == "throttled", 10, "the first throttled answer")
    for t in texts[1:]:
        resp = p.submit(short_message=t.encode(), source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0)
        assert resp.status == 0
        ids.append(as_str(resp.message_id))
    accepted = carrier.wait(lambda e: e["event"] == "submit_sm" and e["answered"] == "ok", 30, "all five accepted", count=5)
    assert [e["text"] for e in accepted] == texts, f"resent first, then the newer ones, in order: {[(e['text'], e['answered'], e['t']) for e in carrier.of('submit_sm')]}"
    assert [e["text"] for e in carrier.of("submit_sm")].count(texts[0]) == 3, "t0: throttled twice, then accepted"
    wait_for(lambda: all(core_status(g, i) == "submitted" for i in ids), 10, "every message submitted in the core")
    gaps = [e["t"] for e in carrier.of("submit_sm")][:3]
    assert gaps[1] - gaps[0] >= 900 and gaps[2] - gaps[1] >= 1900, f"pauses of 1 s then 2 s: {gaps}"


def test_no_response_with_retry_sends_again_and_the_message_is_submitted(gateway_factory, carriers, partner_factory):
    port = free_port()
    carrier = carriers(port, "--no-answer", "1")
    g = gateway_for(gateway_factory, port, response_timeout=2, response_timeout_action="retry", resend_attempts=1)
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the bind")
    text = f"retry-{unique_msisdn('9')}"
    mid = submit(g, partner_factory, text)
    seen = carrier.wait(lambda e: e["event"] == "submit_sm" and e["text"] == text, 15, "the message twice", count=2)
    assert [e["answered"] for e in seen[:2]] == ["none", "ok"]
    wait_for(lambda: core_status(g, mid) == "submitted", 10, "the message submitted in the core")
    wait_log(g, "the peer may have it", 5)


def test_no_response_with_fail_reports_it_failed_and_never_sends_it_again(gateway_factory, carriers, partner_factory):
    port = free_port()
    carrier = carriers(port, "--no-answer", "1")
    g = gateway_for(gateway_factory, port, response_timeout=2, response_timeout_action="fail")
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the bind")
    text = f"fail-{unique_msisdn('9')}"
    mid = submit(g, partner_factory, text)
    wait_for(lambda: core_status(g, mid) == "failed", 15, "the message failed in the core")
    time.sleep(1.5)
    assert len(carrier.find(lambda e: e["event"] == "submit_sm" and e["text"] == text)) == 1, "sent once only"


def test_disabling_a_bind_unbinds_it_and_it_stays_down(gateway_factory, carriers):
    port = free_port()
    carrier = carriers(port)
    g = gateway_for(gateway_factory, port, reconnect_interval=1)
    g.start()
    carrier.wait(lambda e: e["event"] == "bind" and e["ok"], 20, "the bind")
    g.config["binds"][0]["enabled"] = False
    reload(g)
    carrier.wait(lambda e: e["event"] == "unbind", 15, "the gateway's unbind")
    carrier.wait(lambda e: e["event"] == "close", 5, "the connection closed")
    time.sleep(2.5)
    assert len(carrier.of("bind")) == 1, "a disabled bind does not reconnect"
    assert log_lines(g, "client bind stopping")


def test_a_carriers_deliver_sm_is_answered_rx_t_appn_while_the_core_cannot_take_it(gateway_factory, node_smsc_factory):
    port = free_port()
    smsc = node_smsc_factory(port)
    smsc.start()
    g = gateway_factory(port, api_base_url=f"http://127.0.0.1:{free_port()}")
    g.start()
    wait_for(smsc.bound, 20, "the gateway's bind to the carrier")
    smsc.send({"cmd": "mo", "ref": "core-down", "source_addr": unique_msisdn("336"), "destination_addr": "1234", "text": "keep it"})
    answer = smsc.wait_event(lambda e: e["event"] == "deliver_sm_resp" and e.get("ref") == "core-down", 30, "the gateway's deliver_sm_resp")
    assert answer["command_status"] == 0x64, f"{answer['command_status']:#x}: the carrier must keep the MO and redeliver it"
