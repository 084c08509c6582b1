"""The core stopped during load and started again: with the retry cache on, every message the
gateway accepted arrives in the core, once, in order per bind — partners' submit_sm, a
carrier's MO and receipts, and the events the gateway owes the core.

The core here is `cache_support.StubCore`, an independent implementation of the core API in
this process, so that it can be stopped (connections refused) while the gateway runs.
"""

from __future__ import annotations

from cache_support import StubCore, admin, bind_line, cache_entries, configure_cache_gateway, metric, pipelined_submits, run_cli
from smpp_helpers import assert_holds, free_port, gsm_encode, wait_for

ESME_ROK = 0


def texts_of(core: StubCore, bind: str) -> list[str]:
    """Texts of the bind's messages in the order the core first stored them."""
    _, stored, _ = core.snapshot()
    return [m.get("text") or "" for m in stored.values() if m["bind_name"] == bind]


def test_partners_messages_accepted_during_an_outage_arrive_once_and_in_order(gateway_factory, partner_factory):
    core = StubCore(free_port())
    core.start()
    # The seed's 60 s retry interval: after the first failed attempt, nothing moves by itself
    # during the test, so what is cached when is deterministic.
    gw = configure_cache_gateway(
        gateway_factory(free_port()), core.url, partners=("alpha", "beta"), carrier_enabled=False, cache_retry_interval=60
    )
    gw.start()

    sent: dict[str, list[str]] = {"alpha": [], "beta": []}

    def submit(bind: str, texts: list[str]) -> None:
        answers, unanswered = pipelined_submits(gw.smpp_port, bind, texts, window=5)
        assert not unanswered, f"{bind}: no answer for {unanswered}"
        bad = [a for a in answers if a.status != ESME_ROK]
        assert not bad, f"{bind}: refused although the cache is on: {bad}"
        sent[bind].extend(texts)

    # 1. The core is up: messages go to it directly, nothing is cached.
    for bind in sent:
        submit(bind, [f"{bind} up {i:03}" for i in range(5)])
    wait_for(lambda: len(core.snapshot()[1]) == 10, 10, "10 messages in the core")
    assert bind_line(gw, "alpha")["total"] == 0

    # 2. The core stops: both partners keep getting ESME_ROK; their messages wait in the cache.
    core.stop()
    for round_ in range(3):
        for bind in sent:
            submit(bind, [f"{bind} down {round_}-{i:03}" for i in range(20)])
    for bind in sent:
        line = bind_line(gw, bind)
        assert (line["total"], line["mode"]) == (60, "server"), line
        assert metric(gw, "smpp_cache_size", bind_name=bind, mode="server") == 60
    pending = cache_entries(gw, "alpha")
    assert [e["text"] for e in pending] == sent["alpha"][5:], "the cache lists alpha's messages oldest first"
    assert pending[0]["retry_count"] == 1 and pending[0]["last_error"], "the first attempt failed and waits 60 s"
    assert metric(gw, "smpp_cache_retry_total", bind_name="alpha") >= 1

    # 3. The core is back, the cached messages still wait for their retry: new messages queue
    #    behind them instead of overtaking them.
    core.start()
    for bind in sent:
        submit(bind, [f"{bind} back {i:03}" for i in range(10)])
        assert bind_line(gw, bind)["total"] == 70
    assert len(core.snapshot()[1]) == 10, "nothing overtook the cached messages"

    # 4. "Deliver now" (CLI for alpha, admin API for beta): everything arrives, each bind in
    #    the order it was accepted, each message once.
    # (Only the entries already tried wait for a retry time; the others were due all along.)
    tried = {bind: len([e for e in cache_entries(gw, bind, "pending") if e["retry_count"] > 0]) for bind in sent}
    assert tried["alpha"] >= 1 and tried["beta"] >= 1, tried
    cli = run_cli(gw, "retry-pending", "alpha")
    assert cli.returncode == 0 and f"alpha: {tried['alpha']} pending entries will be delivered now" in cli.stdout, cli
    assert admin(gw, "POST", "/api/v1/cache/beta/pending/retry").json()["retried"] == tried["beta"]
    wait_for(lambda: len(core.snapshot()[1]) == 150, 30, "all 150 accepted messages in the core")
    for bind in sent:
        assert texts_of(core, bind) == sent[bind], f"{bind}: order or content differs"
        wait_for(lambda: bind_line(gw, bind)["total"] == 0, 10, f"{bind}'s cache to empty")
        assert metric(gw, "smpp_cache_delivered_total", bind_name=bind) == 70
        assert metric(gw, "smpp_cache_size", bind_name=bind, mode="server") == 0
    assert sorted(core.stored_texts()) == sorted(sent["alpha"] + sent["beta"]), "each accepted message stored exactly once"
    # With the cache empty, new messages go straight to the core again.
    submit("alpha", ["alpha after"])
    wait_for(lambda: texts_of(core, "alpha")[-1:] == ["alpha after"], 10, "the message after recovery")
    assert bind_line(gw, "alpha")["total"] == 0
    core.stop()


def test_carrier_mo_and_receipts_accepted_during_an_outage_reach_the_core(gateway_factory, node_smsc_factory):
    core = StubCore(free_port())
    core.start()
    carrier_port = free_port()
    smsc = node_smsc_factory(carrier_port)
    smsc.start()
    gw = configure_cache_gateway(gateway_factory(carrier_port), core.url)
    gw.start()
    wait_for(smsc.bound, 20, "the gateway's carrier bind")

    core.stop()
    # An MO and then (once the MO is answered) a receipt from the carrier while the core is down.
    receipt_text = "id:ABC123 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:x"
    for ref, extra in (("mo1", {"source_addr": "33611111111", "destination_addr": "1234", "text": "MO in outage"}),
                       ("dlr1", {"esm_class": 4, "source_addr": "33622222222", "destination_addr": "33600000001", "text": receipt_text})):
        smsc.send({"cmd": "mo", "ref": ref, **extra})
        resp = smsc.wait_event(lambda e: e["event"] == "deliver_sm_resp" and e.get("ref") == ref, 20, f"deliver_sm_resp for {ref}")
        assert resp["command_status"] == ESME_ROK, f"{ref}: {resp}"
    line = bind_line(gw, "carrier")
    assert (line["total"], line["mode"]) == (2, "client"), line

    core.start()

    def arrived():
        _, stored, _ = core.snapshot()
        return [m for m in stored.values() if m["bind_name"] == "carrier"]

    got = wait_for(lambda: len(arrived()) == 2 and arrived(), 30, "the MO and the receipt in the core")
    assert [(m["direction"], m.get("text")) for m in got] == [("mo", "MO in outage"), ("receipt", receipt_text)]
    assert got[0]["bind_mode"] == "client"
    wait_for(lambda: bind_line(gw, "carrier")["total"] == 0, 10, "the carrier's cache to empty")
    core.stop()


def test_events_owed_to_the_core_survive_an_outage_of_its_events_endpoint(gateway_factory, node_smsc_factory):
    core = StubCore(free_port())
    core.start()
    carrier_port = free_port()
    smsc = node_smsc_factory(carrier_port)
    smsc.start()
    gw = configure_cache_gateway(gateway_factory(carrier_port), core.url)
    gw.start()
    wait_for(smsc.bound, 20, "the gateway's carrier bind")

    core.events_down = True
    core.queue_mt("carrier", "MT-EVENT-1", "33799999999", "event in outage")
    smsc.wait_event(lambda e: e["event"] == "submit_sm" and e["destination_addr"] == "33799999999", 20, "the MT at the carrier")

    # The `submitted` event cannot be reported: it waits in the carrier bind's cache.
    parked = wait_for(lambda: [e for e in cache_entries(gw, "carrier") if e["kind"] == "event"], 20, "the event in the cache")
    assert parked[0]["id"] == "MT-EVENT-1:submitted" and parked[0]["what"] == "submitted", parked
    assert core.snapshot()[2] == []

    core.events_down = False
    events = wait_for(lambda: core.snapshot()[2], 30, "the event at the core")
    assert [(e["message_id"], e["type"]) for e in events] == [("MT-EVENT-1", "submitted")]
    assert events[0]["smsc_message_id"], events[0]
    wait_for(lambda: bind_line(gw, "carrier")["total"] == 0, 10, "the carrier's cache to empty")
    core.stop()


def test_without_the_cache_an_outage_is_refused_with_a_temporary_status(gateway_factory, partner_factory):
    core = StubCore(free_port())
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False)
    gw.config["server_binds"][0]["cache_enabled"] = False
    gw.start()
    partner = partner_factory(gw.smpp_port, timeout=30)
    partner.bind("transmitter", "partner", "pw")
    resp = partner.submit(short_message=gsm_encode("no cache, no core"), timeout=30)
    assert resp.status == 0x08, f"status {resp.status:#x}: the core is down and the cache is off"
    assert admin(gw, "GET", "/api/v1/cache").json()["summary"]["total"] == 0
    core.start()
    assert_holds(lambda: core.snapshot()[1] == {}, 1.0, "the refused message never reaches the core")
    core.stop()
