"""With the messaging core unreachable the partner never gets a false ESME_ROK."""

from __future__ import annotations

from smpp_helpers import free_port, gsm_encode

ESME_RSYSERR = 0x08
ESME_RX_T_APPN = 0x64


def test_core_unreachable_gives_temporary_error(gateway_factory, partner_factory):
    closed_core_port = free_port()  # nothing listens there
    gateway = gateway_factory(free_port(), api_base_url=f"http://127.0.0.1:{closed_core_port}")
    gateway.start()

    partner = partner_factory(gateway.smpp_port, timeout=30)
    partner.bind("transceiver", "partner", "pw")
    for n in range(2):
        resp = partner.submit(short_message=gsm_encode(f"core down {n}"), timeout=30)
        assert resp.status != 0, "ESME_ROK although the core cannot have stored the message"
        assert resp.status in (ESME_RSYSERR, ESME_RX_T_APPN), f"status {resp.status:#x} is not a temporary error"
