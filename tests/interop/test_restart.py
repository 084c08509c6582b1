"""A message accepted while the carrier is down survives a gateway restart and is sent once."""

from __future__ import annotations

from smpp_helpers import ULID_RE, as_str, assert_holds, free_port, gsm_encode, receipt_fields, unique_msisdn, wait_for


def test_restart_between_submit_and_carrier_availability_loses_nothing(
    gateway_factory, node_smsc_factory, partner_factory
):
    carrier_port = free_port()
    gateway = gateway_factory(carrier_port)
    gateway.start()

    # 1. The carrier is down; the partner's message is accepted all the same.
    partner = partner_factory(gateway.smpp_port)
    partner.bind("transceiver", "partner", "pw")
    src, dst = unique_msisdn("336"), unique_msisdn("337")
    text = f"survives restart {dst}"
    resp = partner.submit(short_message=gsm_encode(text), source_addr=src, destination_addr=dst, registered_delivery=1)
    assert resp.status == 0, f"submit_sm_resp status {resp.status:#x}"
    message_id = as_str(resp.message_id)
    assert ULID_RE.fullmatch(message_id), message_id
    partner.close()

    # 2. Restart the gateway on the same data_dir.
    code = gateway.stop()
    assert code == 0, f"smppgw exited with {code} on SIGTERM"
    gateway.start()

    def copies_in_core() -> int:
        return sum(1 for m in gateway.mt_messages() if m.get("id") == message_id)

    assert copies_in_core() == 1, "the core lost (or doubled) the message across the restart"

    # 3. Now the carrier comes up: the message goes out exactly once.
    smsc = node_smsc_factory(carrier_port)
    smsc.start()

    def at_carrier():
        return smsc.find(lambda e: e["event"] == "submit_sm" and e["destination_addr"] == dst)

    first = wait_for(at_carrier, 30, f"submit_sm to {dst} at the carrier after the restart")[0]
    assert first["short_message_hex"] == gsm_encode(text).hex()
    assert first["source_addr"] == src

    # The partner binds again and receives the receipt with the id it was given.
    partner = partner_factory(gateway.smpp_port)
    partner.bind("receiver", "partner", "pw")
    receipt = partner.wait_deliver(lambda d: as_str(d.destination_addr) == src, 30, "the receipt after the restart")
    assert receipt.esm_class == 0x04
    assert as_str(receipt.receipted_message_id) == message_id
    assert receipt_fields(as_str(receipt.short_message)).get("id") == message_id

    # No second copy shows up, at the carrier or in the core.
    assert_holds(
        lambda: len(at_carrier()) == 1 and copies_in_core() == 1,
        2.0,
        "exactly one submit_sm at the carrier and one MT in the core",
    )
