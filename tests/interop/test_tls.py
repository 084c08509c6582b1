"""SMPP over TLS with independent peers and certificates made at test time by `openssl`:
Python smpplib binds to the gateway's TLS listener (with and without a required client
certificate), and the gateway's client bind (`tls = true`) binds to a Node `smpp` SMSC over TLS
(CA bundle, server name, client certificate), refusing a certificate it cannot verify."""

from __future__ import annotations

import ssl
from typing import Iterator

import pytest
import smpplib.client
import smpplib.exceptions

from session_peers import carriers  # noqa: F401  (a fixture)
from session_peers import Pki, log_lines, wait_log
from smpp_helpers import ULID_RE, Gateway, as_str, free_port, unique_msisdn


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def esmes() -> Iterator[callable]:
    made: list[smpplib.client.Client] = []

    def make(port: int, ctx) -> smpplib.client.Client:
        c = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True, ssl_context=ctx)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.disconnect()
        except Exception:  # noqa: BLE001 - closing whatever state it is in
            pass


def tls_gateway(gateway_factory, pki: Pki, mutual: bool) -> Gateway:
    g = gateway_factory(free_port())
    g.tls_port = free_port()
    g.config["listen.tls"] = {"port": g.tls_port, "cert_file": str(pki.server_cert), "key_file": str(pki.server_key)}
    if mutual:
        g.config["listen.tls"]["client_ca_file"] = str(pki.ca)
    g.start()
    wait_log(g, "SMPP over TLS listener", 10)
    return g


def test_smpplib_binds_and_submits_over_tls(gateway_factory, pki, esmes):
    g = tls_gateway(gateway_factory, pki, mutual=False)
    c = esmes(g.tls_port, pki.client_context())
    c.connect()
    c.bind_transceiver(system_id="partner", password="pw")
    sent = c.send_message(short_message=b"over TLS", source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0)
    while True:
        resp = c.read_pdu()
        if resp.command == "submit_sm_resp":
            break
    assert (resp.sequence, resp.status) == (sent.sequence, 0)
    assert ULID_RE.fullmatch(as_str(resp.message_id))
    c.unbind()


def test_a_tls_listener_requiring_client_certificates_refuses_a_partner_without_one(gateway_factory, pki, esmes):
    g = tls_gateway(gateway_factory, pki, mutual=True)
    without = esmes(g.tls_port, pki.client_context(with_cert=False))
    with pytest.raises((ssl.SSLError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)):
        without.connect()
        without.bind_transceiver(system_id="partner", password="pw")
    wait_log(g, "TLS handshake failed", 10)
    assert not log_lines(g, "partner bind accepted")
    with_cert = esmes(g.tls_port, pki.client_context(with_cert=True))
    with_cert.connect()
    resp = with_cert.bind_transceiver(system_id="partner", password="pw")
    assert resp.status == 0
    with_cert.unbind()


def tls_bind(g: Gateway, carrier_port: int, **keys) -> None:
    b = g.config["binds"][0]
    b.update(port=carrier_port, tls=True, **keys)


def test_the_gateway_binds_to_a_node_smsc_over_tls_and_submits(gateway_factory, carriers, pki, partner_factory):
    port = free_port()
    carrier = carriers(port, "--tls-key", str(pki.server_key), "--tls-cert", str(pki.server_cert))
    g = gateway_factory(port)
    # host 127.0.0.1 is checked against the certificate's IP address SAN.
    tls_bind(g, port, tls_ca_file=str(pki.ca))
    g.start()
    bind = carrier.wait(lambda e: e["event"] == "bind", 20, "the gateway's TLS bind")[0]
    assert bind["ok"] and bind["tls"], bind
    p = partner_factory(g.smpp_port)
    p.bind("transmitter", "partner", "pw")
    text = f"tls mt {unique_msisdn('9')}"
    assert p.submit(short_message=text.encode(), source_addr="33600000001", destination_addr=unique_msisdn("337"), registered_delivery=0).status == 0
    carrier.wait(lambda e: e["event"] == "submit_sm" and e["text"] == text, 20, "the MT over TLS at the carrier")


def test_the_gateway_presents_its_client_certificate_when_the_smsc_requires_one(gateway_factory, carriers, pki):
    port = free_port()
    carrier = carriers(port, "--tls-key", str(pki.server_key), "--tls-cert", str(pki.server_cert), "--tls-ca", str(pki.ca))
    g = gateway_factory(port)
    tls_bind(g, port, tls_ca_file=str(pki.ca), tls_server_name="localhost", tls_cert_file=str(pki.client_cert), tls_key_file=str(pki.client_key))
    g.start()
    bind = carrier.wait(lambda e: e["event"] == "bind", 20, "the gateway's TLS bind")[0]
    assert bind["ok"] and bind["tls"] and bind["authorized"], bind


def test_the_gateway_refuses_an_smsc_certificate_it_cannot_verify(gateway_factory, carriers, pki):
    port = free_port()
    carrier = carriers(port, "--tls-key", str(pki.server_key), "--tls-cert", str(pki.server_cert))
    g = gateway_factory(port)
    tls_bind(g, port, tls_ca_file=str(pki.other_ca))
    g.start()
    lines = wait_log(g, "TLS handshake with", 15)
    assert "invalid peer certificate" in lines[0] and "next attempt in" in lines[0], lines[0]
    assert not carrier.of("bind"), "no credentials were sent to an unverified SMSC"
