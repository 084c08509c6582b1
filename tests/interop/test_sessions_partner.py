"""Server binds (smppgw as SMSC) seen from Python smpplib and from raw sockets: state rules,
the session-init timer, admission (max_sessions, IPv4/IPv6 CIDR whitelists, max_connections),
the seed's source address whitelist, partner TPS (throttle or delay), keep-alive and
inactivity, deliver_sm spread over a partner's receiving sessions, queued MO for partners who
are not bound, and the orderly shutdown."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
import smpplib.exceptions

from session_peers import (
    BIND_RECEIVER,
    BIND_TRANSCEIVER,
    DELIVER_SM,
    DELIVER_SM_RESP,
    ENQUIRE_LINK,
    ENQUIRE_LINK_RESP,
    ESME_RBINDFAIL,
    ESME_RINVBNDSTS,
    ESME_RINVCMDID,
    ESME_RINVCMDLEN,
    ESME_RINVSRCADR,
    ESME_ROK,
    ESME_RTHROTTLED,
    GENERIC_NACK,
    SUBMIT_SM,
    UNBIND,
    UNBIND_RESP,
    Raw,
    log_lines,
    pdu,
    reload,
    server_bind,
    submit_body,
    wait_log,
)
from smpp_helpers import Gateway, NodeSmsc, as_str, free_port, unique_msisdn, wait_for


@pytest.fixture(scope="module")
def gw(tmp_path_factory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("sessions-partner")
    carrier_port = free_port()
    smsc = NodeSmsc(carrier_port)
    smsc.start()
    g = Gateway(workdir, carrier_port)
    g.smsc = smsc
    g.config["listen"]["bind_timeout"] = 2
    g.config["embedded_core"]["lease_seconds"] = 30
    partner = g.config["server_binds"][0]
    g.config["server_binds"] = [
        partner,
        server_bind("pair", max_sessions=2),
        server_bind("fenced", ip_whitelist=["10.0.0.0/8", "2001:db8::/32"]),
        server_bind("local", ip_whitelist=["127.0.0.0/8", "::1"]),
        server_bind("brand", source_address_whitelist=["MyBrand", "614*"]),
        server_bind("slow", tps_limit=2),
        server_bind("patient", tps_limit=2, tps_exceeded="delay"),
        server_bind("idle", enquire_link_interval=1, enquire_link_timeout=1),
        server_bind("quiet", enquire_link_interval=0, inactivity_timeout=2),
        server_bind("late"),
        server_bind("spread", window_size=2),
        server_bind("strict", strict_pdu=True),
    ]
    g.config["mo_routes"] = [
        {"prefix": "7771", "source_smsc": "late"},
        {"prefix": "7772", "source_smsc": "spread"},
        {"prefix": "", "source_smsc": "partner"},
    ]
    try:
        g.start()
        wait_for(smsc.bound, 20, "the gateway's carrier bind")
        yield g
    finally:
        g.stop()
        smsc.stop()


@pytest.fixture
def raw(gw) -> Iterator[callable]:
    made: list[Raw] = []

    def make() -> Raw:
        r = Raw(gw.smpp_port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


# ---- state rules --------------------------------------------------------------------------


def test_submit_on_a_receiver_session_is_rinvbndsts(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    p.bind("receiver", "partner", "pw")
    # smpplib itself refuses to send submit_sm on a receiver; send its own encoding raw.
    sm = submit_body("33600000001", "33700000001", b"nope")
    p.client._socket.sendall(pdu(SUBMIT_SM, 77, sm))
    resp = p.read_until(lambda x: x.command == "submit_sm_resp", 10, "submit_sm_resp")
    assert (resp.sequence, resp.status) == (77, ESME_RINVBNDSTS)


def test_requests_before_bind_get_rinvbndsts_and_enquire_link_is_answered(raw):
    r = raw()
    r.send(pdu(SUBMIT_SM, 5, submit_body("1", "2", b"x")))
    assert r.read() == (SUBMIT_SM | 0x80000000, ESME_RINVBNDSTS, 5, b"\0")
    r.send(pdu(ENQUIRE_LINK, 6))
    assert r.read() == (ENQUIRE_LINK_RESP, ESME_ROK, 6, b"")
    # Still usable: the bind that follows is accepted.
    assert r.bind("partner", "pw") == ESME_ROK


def test_strict_pdu_bind_answers_a_deviation_with_its_status_and_a_lenient_bind_takes_it(raw):
    # source_addr of 25 characters: over SMPP 3.4's maximum of 21 octets with the NUL.
    long_source = "A" * 25
    lenient, strict = raw(), raw()
    assert lenient.bind("partner", "pw") == ESME_ROK
    assert strict.bind("strict", "pw") == ESME_ROK
    lenient.send(pdu(SUBMIT_SM, 3, submit_body(long_source, "33700000001", b"lenient")))
    cid, status, seq, _ = lenient.read()
    assert (cid, status, seq) == (SUBMIT_SM | 0x80000000, ESME_ROK, 3)
    strict.send(pdu(SUBMIT_SM, 4, submit_body(long_source, "33700000001", b"strict")))
    cid, status, seq, _ = strict.read()
    assert (cid, status, seq) == (SUBMIT_SM | 0x80000000, ESME_RINVSRCADR, 4)
    # The session stays usable: a well-formed submit_sm is accepted.
    strict.send(pdu(SUBMIT_SM, 5, submit_body("MyBrand", "33700000001", b"ok")))
    cid, status, seq, _ = strict.read()
    assert (cid, status, seq) == (SUBMIT_SM | 0x80000000, ESME_ROK, 5)


def test_unknown_command_id_gets_generic_nack_rinvcmdid(raw):
    r = raw()
    assert r.bind("partner", "pw") == ESME_ROK
    r.send(pdu(0x00000FFF, 42))
    assert r.read() == (GENERIC_NACK, ESME_RINVCMDID, 42, b"")
    r.send(pdu(ENQUIRE_LINK, 43))
    assert r.read()[:3] == (ENQUIRE_LINK_RESP, ESME_ROK, 43), "the session goes on"


def test_an_impossible_command_length_gets_generic_nack_and_close(raw):
    r = raw()
    assert r.bind("partner", "pw") == ESME_ROK
    r.send(b"\x00\x00\x00\x08\x00\x00\x00\x04" + b"\x00" * 8)
    nack = r.read()
    assert nack is not None and nack[:2] == (GENERIC_NACK, ESME_RINVCMDLEN), nack
    assert r.read() is None, "the stream cannot be resynchronised: closed"


def test_a_connection_that_never_binds_is_closed_by_the_session_init_timer(raw, gw):
    r = raw()
    t0 = time.monotonic()
    assert r.closed_within(6)
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed <= 4.5, f"closed after {elapsed:.1f} s, bind_timeout is 2 s"


# ---- admission ----------------------------------------------------------------------------


def test_max_sessions_then_rbindfail_and_a_freed_place_is_reusable(gw, partner_factory):
    a = partner_factory(gw.smpp_port)
    b = partner_factory(gw.smpp_port)
    assert a.bind("transmitter", "pair", "pw").status == 0
    assert b.bind("receiver", "pair", "pw").status == 0
    c = partner_factory(gw.smpp_port)
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        c.bind("transceiver", "pair", "pw")
    assert refused.value.args[1] == ESME_RBINDFAIL
    wait_log(gw, "max_sessions reached", 5)
    a.close()
    d = partner_factory(gw.smpp_port)
    deadline = time.monotonic() + 5
    while True:
        try:
            assert d.bind("transceiver", "pair", "pw").status == 0
            break
        except smpplib.exceptions.PDUError:
            # The first session's end may not be registered yet; connect again.
            assert time.monotonic() < deadline, "the freed place was never reusable"
            d = partner_factory(gw.smpp_port)
            time.sleep(0.1)


def test_ip_whitelist_refuses_addresses_outside_it_and_logs_it(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        p.bind("transceiver", "fenced", "pw")
    assert refused.value.args[1] == ESME_RBINDFAIL
    lines = wait_log(gw, "address not in ip_whitelist", 5)
    assert any("127.0.0.1" in line and "fenced" in line for line in lines), lines
    ok = partner_factory(gw.smpp_port)
    assert ok.bind("transceiver", "local", "pw").status == 0


# ---- source address whitelist (seed: exact, case-sensitive, prefix*) ------------------------


def test_source_address_whitelist_as_the_seed_specifies_and_logs_as_it_shows(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    p.bind("transmitter", "brand", "pw")
    cases = [("MyBrand", 0), ("mybrand", ESME_RINVSRCADR), ("MyBrands", ESME_RINVSRCADR), ("61412345678", 0), ("61500000001", ESME_RINVSRCADR)]
    for source, want in cases:
        resp = p.submit(short_message=b"hi", source_addr=source, source_addr_ton=5, destination_addr=unique_msisdn("337"), registered_delivery=0)
        assert resp.status == want, f"{source}: {resp.status:#x}"
        if want:
            assert as_str(resp.message_id) == "", "the refusal carries an empty message_id"
    line = wait_log(gw, "source_addr 'mybrand' not in whitelist", 5)[0]
    assert "SMPP Server: Rejecting submit_sm from brand" in line, line


def test_a_whitelist_change_applies_to_the_next_pdu_of_a_live_session(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    p.bind("transmitter", "brand", "pw")
    assert p.submit(short_message=b"a", source_addr="MyBrand", source_addr_ton=5, registered_delivery=0).status == 0
    brand = next(b for b in gw.config["server_binds"] if b["name"] == "brand")
    brand["source_address_whitelist"] = ["OtherBrand"]
    try:
        reload(gw)
        # Same session, next PDU.
        assert p.submit(short_message=b"b", source_addr="MyBrand", source_addr_ton=5, registered_delivery=0).status == ESME_RINVSRCADR
        assert p.submit(short_message=b"c", source_addr="OtherBrand", source_addr_ton=5, registered_delivery=0).status == 0
    finally:
        brand["source_address_whitelist"] = ["MyBrand", "614*"]
        reload(gw)


# ---- partner TPS ----------------------------------------------------------------------------


def _burst(p, n: int) -> tuple[list[int], float]:
    """Send n submit_sm without waiting, then read their answers: (statuses by seq, seconds)."""
    t0 = time.monotonic()
    seqs = []
    for i in range(n):
        sent = p.client.send_message(short_message=f"burst {i}".encode(), source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0)
        seqs.append(sent.sequence)
    got: dict[int, int] = {}
    while len(got) < n:
        r = p.read_until(lambda x: x.command == "submit_sm_resp", 15, "submit_sm_resp")
        got[r.sequence] = r.status
    return [got[s] for s in seqs], time.monotonic() - t0


def test_over_tps_limit_the_excess_is_throttled(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    p.bind("transmitter", "slow", "pw")
    statuses, elapsed = _burst(p, 8)
    assert set(statuses) <= {0, ESME_RTHROTTLED}, statuses
    assert statuses[:2] == [0, 0], "the first ones in the window pass"
    # At 2 per second, at most 2 more can pass per second the burst took.
    assert statuses.count(0) <= 2 + 2 * int(elapsed + 1), f"tps_limit 2 over {elapsed:.2f} s: {statuses}"
    assert statuses.count(ESME_RTHROTTLED) >= 2, statuses


def test_over_tps_limit_with_delay_the_partner_is_slowed_not_refused(gw, partner_factory):
    p = partner_factory(gw.smpp_port)
    p.bind("transmitter", "patient", "pw")
    statuses, elapsed = _burst(p, 6)
    assert statuses == [0] * 6, statuses
    assert elapsed >= 1.8, f"6 at 2 per second answered in {elapsed:.2f} s"


# ---- keep-alive and inactivity ----------------------------------------------------------------


def test_an_idle_partner_gets_enquire_link_and_a_silent_one_is_closed(gw, raw):
    r = raw()
    assert r.bind("idle", "pw") == ESME_ROK
    e = r.read(5)
    assert e is not None and e[0] == ENQUIRE_LINK, e
    r.send(pdu(ENQUIRE_LINK_RESP, e[2]))
    e2 = r.read(5)
    assert e2 is not None and e2[0] == ENQUIRE_LINK and e2[2] != e[2], e2
    # No answer this time: the link is dead for the gateway after enquire_link_timeout.
    t0 = time.monotonic()
    assert r.closed_within(5)
    assert time.monotonic() - t0 <= 3.5
    wait_log(gw, "enquire_link timeout", 5)


def test_an_inactive_partner_is_unbound(gw, raw):
    r = raw()
    assert r.bind("quiet", "pw") == ESME_ROK
    t0 = time.monotonic()
    u = r.read(6)
    assert u is not None and u[0] == UNBIND, u
    assert 1.5 <= time.monotonic() - t0 <= 4.5
    r.send(pdu(UNBIND_RESP, u[2]))
    assert r.read(5) is None


# ---- deliver_sm to partners -------------------------------------------------------------------


def _mo(gw, dst: str, text: str) -> None:
    gw.smsc.send({"cmd": "mo", "ref": text, "source_addr": unique_msisdn("336"), "source_addr_ton": 1, "source_addr_npi": 1, "destination_addr": dst, "text": text})


def test_deliver_sm_is_spread_over_every_receiving_session(gw, raw):
    sessions = {kind: raw() for kind in ("receiver", "transceiver", "transmitter")}
    from session_peers import BIND_TRANSMITTER

    for kind, command in (("receiver", BIND_RECEIVER), ("transceiver", BIND_TRANSCEIVER), ("transmitter", BIND_TRANSMITTER)):
        assert sessions[kind].bind("spread", "pw", command_id=command) == ESME_ROK
    texts = [f"spread {i} {unique_msisdn('9')}" for i in range(12)]
    for t in texts:
        _mo(gw, "77720000001", t)
    got: dict[str, list[bytes]] = {"receiver": [], "transceiver": []}
    deadline = time.monotonic() + 30
    # Answer slowly enough that the window (2) spreads the load.
    while sum(map(len, got.values())) < len(texts):
        assert time.monotonic() < deadline, f"delivered so far: {got}"
        for kind in ("receiver", "transceiver"):
            try:
                p = sessions[kind].read(0.2)
            except AssertionError:
                continue
            assert p is not None, f"the {kind} session was closed"
            if p[0] == DELIVER_SM:
                got[kind].append(p[3])
                time.sleep(0.05)
                sessions[kind].send(pdu(DELIVER_SM_RESP, p[2], b"\0"))
            elif p[0] == ENQUIRE_LINK:
                sessions[kind].send(pdu(ENQUIRE_LINK_RESP, p[2]))
    assert got["receiver"] and got["transceiver"], {k: len(v) for k, v in got.items()}
    # Nothing for the transmitter session.
    try:
        stray = sessions["transmitter"].read(0.5)
    except AssertionError:
        stray = None
    assert stray is None or stray[0] != DELIVER_SM, stray


def test_an_mo_for_a_partner_who_is_not_bound_waits_in_the_core(gw, partner_factory):
    text = f"queued {unique_msisdn('9')}"
    _mo(gw, "77710000001", text)
    gw.smsc.wait_event(lambda e: e["event"] == "deliver_sm_resp" and e.get("ref") == text, 10, "the carrier's MO accepted by the gateway")
    time.sleep(2)  # nobody bound to "late" meanwhile: the MO stays queued
    p = partner_factory(gw.smpp_port)
    p.bind("receiver", "late", "pw")
    d = p.wait_deliver(lambda x: text.encode() in (x.short_message or b""), 20, "the queued MO")
    assert d.esm_class == 0


# ---- listener and shutdown (their own gateways) ---------------------------------------------------


def test_max_connections_closes_excess_connections_at_once_and_logs(gateway_factory):
    g = gateway_factory(free_port())
    g.config["listen"]["max_connections"] = 3
    g.start()
    held = [Raw(g.smpp_port) for _ in range(3)]
    try:
        time.sleep(0.3)
        extra = Raw(g.smpp_port)
        t0 = time.monotonic()
        assert extra.closed_within(3), "the fourth connection was not closed"
        assert time.monotonic() - t0 < 1.0, "closed at once"
        wait_log(g, "max_connections reached", 5)
        # The three held ones are served.
        held[0].send(pdu(ENQUIRE_LINK, 9))
        assert held[0].read(5)[:3] == (ENQUIRE_LINK_RESP, ESME_ROK, 9)
    finally:
        for r in held:
            r.close()


def test_shutdown_unbinds_bound_partners_and_exits_cleanly(gateway_factory):
    g = gateway_factory(free_port())
    g.start()
    r = Raw(g.smpp_port)
    assert r.bind("partner", "pw") == ESME_ROK
    g.proc.send_signal(__import__("signal").SIGTERM)
    u = r.read(10)
    assert u is not None and u[0] == UNBIND, u
    r.send(pdu(UNBIND_RESP, u[2]))
    assert r.read(10) is None
    rc = g.proc.wait(15)
    assert rc == 0, f"exit code {rc}"
    g.proc = None
