"""The whole path with SMPP software we did not write at both ends:
smpplib (partner ESME) → smppgw → Node `smpp` (carrier SMSC), and back."""

from __future__ import annotations

import pytest

from smpp_helpers import ULID_RE, as_str, decode_text, gsm_encode, receipt_fields, unique_msisdn


def test_mt_reaches_carrier_and_receipt_returns_with_partner_id(stack, partner_factory):
    partner = partner_factory(stack.gateway.smpp_port)
    partner.bind("transceiver", "partner", "pw")
    src, dst = unique_msisdn("336"), unique_msisdn("337")
    text = f"Hello carrier {dst}"

    resp = partner.submit(
        short_message=gsm_encode(text),
        data_coding=0,
        source_addr=src,
        source_addr_ton=1,
        source_addr_npi=1,
        destination_addr=dst,
        dest_addr_ton=1,
        dest_addr_npi=1,
        registered_delivery=1,
    )
    assert resp.status == 0, f"submit_sm_resp status {resp.status:#x}"
    message_id = as_str(resp.message_id)
    assert ULID_RE.fullmatch(message_id), f"message_id {message_id!r} is not a 26-char ULID"

    at_carrier = stack.smsc.wait_event(
        lambda e: e["event"] == "submit_sm" and e["destination_addr"] == dst, 20, f"submit_sm to {dst} at the carrier"
    )
    assert at_carrier["source_addr"] == src
    assert (at_carrier["source_addr_ton"], at_carrier["source_addr_npi"]) == (1, 1)
    assert (at_carrier["dest_addr_ton"], at_carrier["dest_addr_npi"]) == (1, 1)
    assert at_carrier["data_coding"] == 0
    assert at_carrier["short_message_hex"] == gsm_encode(text).hex()
    assert at_carrier["text"] == text
    assert at_carrier["registered_delivery"] & 0x03 == 1, "the carrier was not asked for a receipt"

    receipt = partner.wait_deliver(
        lambda d: as_str(d.destination_addr) == src and as_str(d.source_addr) == dst,
        30,
        f"the receipt of {message_id} at the partner",
    )
    assert receipt.esm_class == 0x04, f"esm_class {receipt.esm_class:#x}"
    body = decode_text(receipt.short_message or b"", receipt.data_coding or 0)
    fields = receipt_fields(body)
    assert fields.get("id") == message_id, f"receipt text {body!r} does not carry id:{message_id}"
    assert fields.get("stat") == "DELIVRD", body
    assert as_str(receipt.receipted_message_id) == message_id, (
        f"receipted_message_id {receipt.receipted_message_id!r} != {message_id!r}"
    )
    # The carrier saw its receipt acknowledged.
    stack.smsc.wait_event(
        lambda e: e["event"] == "deliver_sm_resp" and e["ref"] == at_carrier["message_id"],
        10,
        "the carrier's receipt to be acknowledged",
    )


@pytest.mark.parametrize("bind_kind", ["transceiver", "receiver"])
def test_mo_from_carrier_reaches_partner_session(stack, partner_factory, bind_kind):
    partner = partner_factory(stack.gateway.smpp_port)
    partner.bind(bind_kind, "partner", "pw")
    src, dst = unique_msisdn("336"), unique_msisdn("120")
    text = f"MO via {bind_kind} {src}"

    stack.smsc.send(
        {
            "cmd": "mo",
            "ref": src,
            "source_addr": src,
            "source_addr_ton": 1,
            "source_addr_npi": 1,
            "destination_addr": dst,
            "dest_addr_ton": 0,
            "dest_addr_npi": 1,
            "text": text,
            "data_coding": 0,
        }
    )
    stack.smsc.wait_event(lambda e: e["event"] == "mo_sent" and e["ref"] == src, 10, "the Node SMSC to send the MO")

    mo = partner.wait_deliver(lambda d: as_str(d.source_addr) == src, 30, f"the MO from {src} at the partner")
    assert as_str(mo.destination_addr) == dst
    assert (mo.source_addr_ton, mo.source_addr_npi) == (1, 1)
    assert mo.esm_class & 0x3C == 0, f"an MO arrived as esm_class {mo.esm_class:#x}"
    assert decode_text(mo.short_message, mo.data_coding or 0) == text

    ack = stack.smsc.wait_event(
        lambda e: e["event"] == "deliver_sm_resp" and e["ref"] == src, 10, "the gateway's deliver_sm_resp to the carrier"
    )
    assert ack["command_status"] == 0
