"""Texts outside ASCII cross the gateway intact in both directions."""

from __future__ import annotations

import pytest

from smpp_helpers import as_str, decode_text, encode_text, unique_msisdn

TEXTS = [
    pytest.param("Привет мир 你好", 8, id="ucs2"),
    # GSM 03.38 default alphabet with extension-table characters (ESC + code each).
    pytest.param("GSM ext {} [x] ~ €5 ok", 0, id="gsm-extension"),
]


@pytest.mark.parametrize(("text", "data_coding"), TEXTS)
def test_mt_text_arrives_byte_exact_at_carrier(stack, partner_factory, text, data_coding):
    partner = partner_factory(stack.gateway.smpp_port)
    partner.bind("transmitter", "partner", "pw")
    dst = unique_msisdn("337")
    octets = encode_text(text, data_coding)

    resp = partner.submit(short_message=octets, data_coding=data_coding, destination_addr=dst, registered_delivery=0)
    assert resp.status == 0, f"submit_sm_resp status {resp.status:#x}"

    got = stack.smsc.wait_event(
        lambda e: e["event"] == "submit_sm" and e["destination_addr"] == dst, 20, f"submit_sm to {dst} at the carrier"
    )
    assert got["data_coding"] == data_coding
    assert got["short_message_hex"] == octets.hex(), f"carrier got {got['short_message_hex']}, sent {octets.hex()}"
    assert got["text"] == text


@pytest.mark.parametrize(("text", "data_coding"), TEXTS)
def test_mo_text_arrives_intact_at_partner(stack, partner_factory, text, data_coding):
    partner = partner_factory(stack.gateway.smpp_port)
    partner.bind("transceiver", "partner", "pw")
    src = unique_msisdn("336")

    stack.smsc.send(
        {"cmd": "mo", "ref": src, "source_addr": src, "destination_addr": "1234", "text": text, "data_coding": data_coding}
    )
    sent = stack.smsc.wait_event(lambda e: e["event"] == "mo_sent" and e["ref"] == src, 10, "the MO to be sent")
    assert sent["short_message_hex"] == encode_text(text, data_coding).hex()

    mo = partner.wait_deliver(lambda d: as_str(d.source_addr) == src, 30, f"the MO from {src} at the partner")
    dc = mo.data_coding or 0
    assert dc in (0, 3, 8), f"unexpected data_coding {dc}"
    assert decode_text(mo.short_message, dc) == text, f"partner got {mo.short_message!r} (data_coding {dc})"
