"""Bind admission of the gateway's SMSC side, seen from smpplib."""

from __future__ import annotations

import pytest
import smpplib.exceptions

ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F


@pytest.mark.parametrize(
    ("kind", "system_id", "password", "status"),
    [
        pytest.param("transceiver", "nobody", "pw", ESME_RINVSYSID, id="unknown-system-id"),
        pytest.param("transceiver", "partner", "wrong", ESME_RINVPASWD, id="wrong-password"),
        pytest.param("receiver", "txonly", "pw", ESME_RBINDFAIL, id="bind-type-not-allowed"),
        pytest.param("transmitter", "off", "pw", ESME_RBINDFAIL, id="disabled-peer"),
    ],
)
def test_bind_refused_with_exact_status(stack, partner_factory, kind, system_id, password, status):
    partner = partner_factory(stack.gateway.smpp_port)
    with pytest.raises(smpplib.exceptions.PDUError) as refused:
        partner.bind(kind, system_id, password)
    assert len(refused.value.args) > 1, f"smpplib error without a status: {refused.value!r}"
    assert refused.value.args[1] == status, f"got {refused.value.args[1]:#04x}, want {status:#04x}"


@pytest.mark.parametrize("kind", ["transmitter", "receiver", "transceiver"])
def test_allowed_binds_succeed(stack, partner_factory, kind):
    partner = partner_factory(stack.gateway.smpp_port)
    resp = partner.bind(kind, "partner", "pw")
    assert resp.status == 0


def test_transmitter_only_peer_binds_as_transmitter(stack, partner_factory):
    partner = partner_factory(stack.gateway.smpp_port)
    assert partner.bind("transmitter", "txonly", "pw").status == 0
