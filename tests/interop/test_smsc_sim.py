"""The project's own SMSC simulator (`smppgw sim smsc`), seen from smpplib."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import smpplib.exceptions

from smpp_helpers import Sim, as_str, decode_text, gsm_encode, receipt_fields, unique_msisdn, wait_for


@pytest.fixture
def sim(tmp_path):
    s = Sim(tmp_path)
    s.start()
    yield s
    s.stop()


def test_sim_bind_submit_receipt(sim, partner_factory):
    partner = partner_factory(sim.smpp_port)
    partner.bind("transceiver", "gw", "secret")
    src, dst = unique_msisdn("336"), unique_msisdn("337")
    text = "sim says {hi} €"
    resp = partner.submit(
        short_message=gsm_encode(text), data_coding=0, source_addr=src, destination_addr=dst, registered_delivery=1
    )
    assert resp.status == 0
    message_id = as_str(resp.message_id)
    assert message_id.isdigit(), f"default message ids are decimal, got {message_id!r}"

    receipt = partner.wait_deliver(lambda d: as_str(d.destination_addr) == src, 10, "the simulator's receipt")
    assert receipt.esm_class == 0x04
    assert as_str(receipt.source_addr) == dst
    assert as_str(receipt.receipted_message_id) == message_id
    assert receipt.message_state == 2
    fields = receipt_fields(decode_text(receipt.short_message, receipt.data_coding or 0))
    assert fields["id"] == message_id
    assert fields["stat"] == "DELIVRD"
    assert fields["sub"] == "001" and fields["dlvrd"] == "001"
    assert fields["text"] == text[:20]

    submits = requests.get(sim.url("/submits"), timeout=5).json()
    mine = [s for s in submits if s["destination_addr"] == dst]
    assert len(mine) == 1
    assert mine[0]["message_id"] == message_id
    assert mine[0]["short_message_hex"] == gsm_encode(text).hex()
    assert mine[0]["text"] == text
    stats = requests.get(sim.url("/stats"), timeout=5).json()
    assert stats["submits"] >= 1 and stats["receipts_sent"] >= 1 and stats["binds"] >= 1


def test_sim_mo_injection_over_http(sim, partner_factory):
    partner = partner_factory(sim.smpp_port)
    partner.bind("receiver", "gw", "secret")
    src = unique_msisdn("336")
    body = {"source_addr": src, "destination_addr": "1234", "text": "Привет from the sim"}
    # The control API answers once the partner acked the MO: post from another thread.
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.post, sim.url("/mo"), json=body, timeout=10)
        mo = partner.wait_deliver(lambda d: as_str(d.source_addr) == src, 10, "the injected MO")
        r = pending.result()
    assert r.status_code == 200, r.text
    assert r.json() == {"command_status": 0}
    assert mo.esm_class == 0
    assert decode_text(mo.short_message, mo.data_coding) == "Привет from the sim"
    assert mo.data_coding == 8
    wait_for(lambda: requests.get(sim.url("/stats"), timeout=5).json()["mo_sent"] >= 1, 5, "mo_sent to count")


def test_sim_refuses_wrong_password(sim, partner_factory):
    partner = partner_factory(sim.smpp_port)
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        partner.bind("transmitter", "gw", "nope")
    assert refused.value.args[1] == 0x0E


def test_sim_mo_without_receiver_is_503(sim):
    r = requests.post(sim.url("/mo"), json={"source_addr": "1", "destination_addr": "2", "text": "x"}, timeout=10)
    assert r.status_code == 503
