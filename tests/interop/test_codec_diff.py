"""Differential tests of smppgw's PDU codec against two independent SMPP implementations (issue 3
§11): Python `smpplib` (in-process) and the Node `smpp` package (tests/interop/node/pdu_codec.js).

- their PDUs decode in ours (`smppgw pdu decode <hex>`) to the values they were built with, and
  ours re-encode them to the same octets (`smppgw pdu encode`);
- our PDUs (`smppgw pdu encode` from JSON) decode in theirs to the values we wrote;
- texts cross in both directions: GSM 03.38 with the extension table, UCS-2 with surrogate
  pairs, Latin-1, a concatenation UDH, and Node's national language (Turkish) locking table.

No gateway process runs here: only the `smppgw pdu` subcommands of the binary under test.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
import smpplib.smpp

from smpp_helpers import smppgw_bin

NODE_DIR = Path(__file__).resolve().parent / "node"


# ----------------------------------------------------------------------------------------------
# Our codec, through the binary under test


def ours_decode(data: bytes, *args: str) -> dict[str, Any]:
    out = subprocess.run([str(smppgw_bin()), "pdu", "decode", data.hex(), *args], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"smppgw pdu decode {data.hex()}: {out.stderr}"
    return json.loads(out.stdout)


def ours_encode(doc: dict[str, Any]) -> bytes:
    out = subprocess.run([str(smppgw_bin()), "pdu", "encode"], input=json.dumps(doc), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"smppgw pdu encode {doc}: {out.stderr}"
    return bytes.fromhex(out.stdout.strip())


def tlv(decoded: dict[str, Any], name: str) -> dict[str, Any]:
    found = [t for t in decoded.get("tlvs", []) if t["tag"] == name]
    assert found, f"no {name} TLV in {decoded.get('tlvs')}"
    return found[0]


# ----------------------------------------------------------------------------------------------
# smpplib


class _NoClient:
    """smpplib needs a client only to number the PDUs it makes."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


def smpplib_make(command: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    pdu = smpplib.smpp.make_pdu(command, client=_NoClient(), **fields)
    pdu.sequence = sequence
    pdu.status = status
    return pdu.generate()


def smpplib_parse(data: bytes) -> Any:
    return smpplib.smpp.parse_pdu(data, client=_NoClient(), allow_unknown_opt_params=True)


def as_text(v: Any) -> Any:
    return v.decode("latin-1") if isinstance(v, bytes) else v


# (command, fields as smpplib takes them, what ours must show: top-level fields, then TLVs by name)
SMPPLIB_CASES = [
    pytest.param(
        "submit_sm",
        dict(
            source_addr_ton=5, source_addr_npi=0, source_addr="Info@Home", dest_addr_ton=1, dest_addr_npi=1,
            destination_addr="447700900123", registered_delivery=1, validity_period="000001000000000R", data_coding=8,
            short_message="Привет 😀".encode("utf-16-be"), user_message_reference=42, source_port=9200,
        ),
        {"user_message_reference": 42, "source_port": 9200},
        id="submit_sm-ucs2-tlvs",
    ),
    pytest.param(
        "deliver_sm",
        dict(
            source_addr_ton=1, source_addr_npi=1, source_addr="447700900123", destination_addr="ACME", esm_class=4,
            short_message=b"id:0A1B2C3D sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:hi",
            receipted_message_id="0A1B2C3D", message_state=2,
        ),
        {"receipted_message_id": "0A1B2C3D", "message_state": 2},
        id="deliver_sm-receipt",
    ),
    pytest.param(
        "data_sm",
        dict(
            service_type="WAP", source_addr="447700900123", destination_addr="447700900456", data_coding=4,
            message_payload=b"\x01\x02binary payload", source_port=9200, destination_port=2948, more_messages_to_send=0,
        ),
        {"source_port": 9200, "destination_port": 2948, "more_messages_to_send": 0},
        id="data_sm-payload",
    ),
    pytest.param(
        "bind_transceiver",
        dict(system_id="smppclient1", password="password", system_type="VMA", interface_version=0x34, addr_ton=1, addr_npi=1, address_range=""),
        {},
        id="bind_transceiver",
    ),
    pytest.param("bind_transmitter_resp", dict(system_id="SMSC", sc_interface_version=0x34), {"sc_interface_version": 0x34}, id="bind_resp"),
    pytest.param("submit_sm_resp", dict(message_id="5F3A09B2"), {}, id="submit_sm_resp"),
    pytest.param("query_sm", dict(message_id="5F3A09B2", source_addr_ton=1, source_addr_npi=1, source_addr="447700900123"), {}, id="query_sm"),
    pytest.param("query_sm_resp", dict(message_id="5F3A09B2", final_date="240131120000000+", message_state=2, error_code=0), {}, id="query_sm_resp"),
    pytest.param("enquire_link", dict(), {}, id="enquire_link"),
    pytest.param("unbind", dict(), {}, id="unbind"),
    pytest.param("alert_notification", dict(source_addr="447700900123", esme_addr="ACME", ms_availability_status=0), {"ms_availability_status": 0}, id="alert_notification"),
]


@pytest.mark.parametrize(("command", "fields", "tlvs"), SMPPLIB_CASES)
def test_smpplib_pdus_decode_to_the_same_fields_in_ours(command, fields, tlvs):
    data = smpplib_make(command, sequence=4711, **fields)
    ours = ours_decode(data)
    assert ours["command_id"] == command
    assert ours["sequence_number"] == 4711
    assert ours["command_status"] == "ESME_ROK"
    assert ours["command_length"] == len(data)
    for name, value in fields.items():
        if name in tlvs or name == "message_payload":
            continue
        if name == "short_message":
            assert ours["short_message"]["hex"] == value.hex()
        else:
            assert ours[name] == value, f"{name}: ours {ours[name]!r}, smpplib wrote {value!r}"
    for name, value in tlvs.items():
        assert tlv(ours, name)["value"] == value, name
    if "message_payload" in fields:
        assert tlv(ours, "message_payload")["hex"] == fields["message_payload"].hex()
    # And ours writes exactly the octets smpplib did.
    assert ours_encode(ours) == data


def test_smpplib_texts_and_receipt_read_by_ours():
    ours = ours_decode(smpplib_make("submit_sm", 1, data_coding=8, short_message="Привет 😀".encode("utf-16-be")))
    assert ours["short_message"]["text"] == "Привет 😀"
    receipt = SMPPLIB_CASES[1].values[1]
    ours = ours_decode(smpplib_make("deliver_sm", 2, **receipt))
    assert ours["short_message"]["receipt"]["stat"] == "DELIVRD"
    assert ours["short_message"]["receipt"]["id"] == "0A1B2C3D"
    assert ours["short_message"]["receipt"]["message_state"] == 2


def test_smpplib_error_response_without_body_decodes():
    ours = ours_decode(smpplib_make("generic_nack", 9, status=0x03))
    assert (ours["command_id"], ours["command_status"], ours["sequence_number"]) == ("generic_nack", "ESME_RINVCMDID", 9)
    data = bytes.fromhex("00000010800000040000005800000007")  # submit_sm_resp ESME_RTHROTTLED, no body
    assert smpplib_parse(data).status == 0x58
    assert ours_decode(data)["command_status"] == "ESME_RTHROTTLED"


OURS_FOR_SMPPLIB = [
    pytest.param(
        {
            "command_id": "submit_sm", "sequence_number": 77, "source_addr_ton": 5, "source_addr": "Info@Home",
            "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "336123456", "registered_delivery": 1,
            "data_coding": 0, "short_message": {"text": "Hello {world} €5"},
            "tlvs": [{"tag": "user_message_reference", "value": 7}, {"tag": "source_port", "value": 9200}],
        },
        {"source_addr": "Info@Home", "destination_addr": "336123456", "registered_delivery": 1, "user_message_reference": 7, "source_port": 9200},
        id="submit_sm",
    ),
    pytest.param(
        {
            "command_id": "deliver_sm", "sequence_number": 78, "esm_class": 4, "source_addr": "336123456", "destination_addr": "ACME",
            "short_message": "id:abc sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:x",
            "tlvs": [{"tag": "receipted_message_id", "value": "abc"}, {"tag": "message_state", "value": 2}],
        },
        {"esm_class": 4, "receipted_message_id": "abc", "message_state": 2},
        id="deliver_sm-receipt",
    ),
    pytest.param(
        {
            "command_id": "data_sm", "sequence_number": 79, "source_addr": "1", "destination_addr": "2", "data_coding": 4,
            "tlvs": [{"tag": "message_payload", "hex": "00ff10"}, {"tag": "source_port", "value": 1}],
        },
        {"data_coding": 4, "message_payload": b"\x00\xff\x10", "source_port": 1},
        id="data_sm",
    ),
    pytest.param(
        {"command_id": "bind_transceiver", "sequence_number": 1, "system_id": "gw", "password": "secret", "system_type": "", "interface_version": 52},
        {"system_id": "gw", "password": "secret", "interface_version": 0x34},
        id="bind_transceiver",
    ),
    pytest.param(
        {"command_id": "bind_transceiver_resp", "sequence_number": 1, "system_id": "smppgw", "tlvs": [{"tag": "sc_interface_version", "value": 52}]},
        {"system_id": "smppgw", "sc_interface_version": 0x34},
        id="bind_transceiver_resp",
    ),
    pytest.param({"command_id": "submit_sm_resp", "sequence_number": 77, "message_id": "01HVABCDEF"}, {"message_id": "01HVABCDEF"}, id="submit_sm_resp"),
    pytest.param({"command_id": "deliver_sm_resp", "sequence_number": 78}, {}, id="deliver_sm_resp"),
    pytest.param({"command_id": "enquire_link_resp", "sequence_number": 2147483647}, {}, id="enquire_link_resp"),
]


@pytest.mark.parametrize(("doc", "expected"), OURS_FOR_SMPPLIB)
def test_our_pdus_decode_in_smpplib(doc, expected):
    data = ours_encode(doc)
    theirs = smpplib_parse(data)
    assert theirs.command == doc["command_id"]
    assert theirs.sequence == doc["sequence_number"]
    assert theirs.status == 0
    for name, value in expected.items():
        assert as_text(getattr(theirs, name)) == as_text(value), f"{name}: smpplib read {getattr(theirs, name)!r}"
    if doc["command_id"] == "submit_sm":
        # GSM 03.38 unpacked with ESC + code for { } €.
        assert theirs.short_message == bytes.fromhex("48656c6c6f201b28776f726c641b2920 1b6535".replace(" ", ""))


# ----------------------------------------------------------------------------------------------
# Node smpp


class NodeCodec:
    """One `node pdu_codec.js` process answering JSON lines."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "pdu_codec.js")], cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lock = threading.Lock()

    def ask(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            assert self.proc.stdin and self.proc.stdout
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            answer = json.loads(self.proc.stdout.readline())
        assert "error" not in answer, answer["error"]
        return answer

    def encode(self, command: str, **fields: Any) -> bytes:
        return bytes.fromhex(self.ask({"op": "encode", "command": command, "fields": fields})["hex"])

    def decode(self, data: bytes) -> dict[str, Any]:
        return self.ask({"op": "decode", "hex": data.hex()})

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def node() -> Iterator[NodeCodec]:
    codec = NodeCodec()
    yield codec
    codec.close()


def hexv(b: bytes) -> dict[str, str]:
    return {"hex": b.hex()}


# (command, fields for Node, checks on our JSON)
NODE_CASES = [
    pytest.param(
        "submit_sm",
        dict(sequence_number=11, source_addr_ton=5, source_addr="Info@Home", dest_addr_ton=1, dest_addr_npi=1, destination_addr="447700900123",
             registered_delivery=1, data_coding=0, short_message=hexv(b"raw"), user_message_reference=5),
        {"source_addr": "Info@Home", "registered_delivery": 1, ("short_message", "hex"): "726177", ("tlv", "user_message_reference"): 5},
        id="submit_sm",
    ),
    pytest.param(
        "submit_multi",
        dict(sequence_number=12, source_addr="ACME", dest_address=[{"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "111"}, {"dl_name": "friends"}],
             short_message=hexv(b"hi")),
        {"number_of_dests": 2, ("dest_address", 0, "destination_addr"): "111", ("dest_address", 0, "dest_flag"): 1,
         ("dest_address", 1, "dl_name"): "friends", ("dest_address", 1, "dest_flag"): 2},
        id="submit_multi",
    ),
    pytest.param(
        "submit_multi_resp",
        dict(sequence_number=12, message_id="m1", unsuccess_sme=[{"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "111", "error_status_code": 11}]),
        {"message_id": "m1", "no_unsuccess": 1, ("unsuccess_sme", 0, "destination_addr"): "111", ("unsuccess_sme", 0, "error_status_code"): "ESME_RINVDSTADR"},
        id="submit_multi_resp",
    ),
    pytest.param(
        "deliver_sm",
        dict(sequence_number=13, esm_class=4, source_addr="447700900123", destination_addr="ACME", short_message=hexv(b"id:77 stat:DELIVRD err:000"),
             receipted_message_id="77", message_state=2, network_error_code=hexv(b"\x03\x00\x00")),
        {"esm_class": 4, ("tlv", "receipted_message_id"): "77", ("tlv", "message_state"): 2,
         ("tlv", "network_error_code"): {"network_type": 3, "error_code": 0}, ("short_message", "receipt", "stat"): "DELIVRD"},
        id="deliver_sm-receipt",
    ),
    pytest.param(
        "data_sm",
        dict(sequence_number=14, source_addr="1", destination_addr="2", data_coding=4, source_port=9200, dest_port=2948, message_payload=hexv(b"\x00\x01")),
        {"data_coding": 4, ("tlv", "source_port"): 9200, ("tlv", "destination_port"): 2948},
        id="data_sm",
    ),
    pytest.param("query_sm", dict(sequence_number=15, message_id="m1", source_addr="1"), {"message_id": "m1", "source_addr": "1"}, id="query_sm"),
    pytest.param("cancel_sm", dict(sequence_number=16, message_id="m1", source_addr="1", destination_addr="2"), {"message_id": "m1", "destination_addr": "2"}, id="cancel_sm"),
    pytest.param(
        "replace_sm",
        dict(sequence_number=17, message_id="m1", source_addr="1", registered_delivery=1, short_message=hexv(b"new text")),
        {"message_id": "m1", "registered_delivery": 1, ("short_message", "hex"): b"new text".hex()},
        id="replace_sm",
    ),
    pytest.param("outbind", dict(sequence_number=18, system_id="SMSC", password="pw"), {"system_id": "SMSC", "password": "pw"}, id="outbind"),
    pytest.param(
        "bind_receiver",
        dict(sequence_number=19, system_id="sys", password="pw", system_type="", interface_version=0x34, address_range="^44"),
        {"system_id": "sys", "interface_version": 0x34, "address_range": "^44"},
        id="bind_receiver",
    ),
    pytest.param(
        "alert_notification",
        dict(sequence_number=20, source_addr="447700900123", esme_addr="ACME", ms_availability_status=1),
        {"esme_addr": "ACME", ("tlv", "ms_availability_status"): 1},
        id="alert_notification",
    ),
    pytest.param(
        "broadcast_sm",
        dict(sequence_number=21, message_id="", data_coding=0, broadcast_rep_num=2, broadcast_message_class=1),
        {("tlv", "broadcast_rep_num"): 2, ("tlv", "broadcast_message_class"): 1},
        id="broadcast_sm",
    ),
    pytest.param("query_broadcast_sm", dict(sequence_number=22, message_id="b1", source_addr="1"), {"message_id": "b1"}, id="query_broadcast_sm"),
    pytest.param("cancel_broadcast_sm", dict(sequence_number=23, message_id="b1", source_addr="1"), {"message_id": "b1"}, id="cancel_broadcast_sm"),
    pytest.param("enquire_link", dict(sequence_number=24), {}, id="enquire_link"),
    pytest.param("generic_nack", dict(sequence_number=25, command_status=3), {"command_status": "ESME_RINVCMDID"}, id="generic_nack"),
]


def dig(doc: Any, path: tuple) -> Any:
    if path[0] == "tlv":
        return tlv(doc, path[1])["value"]
    for p in path:
        doc = doc[p]
    return doc


@pytest.mark.parametrize(("command", "fields", "checks"), NODE_CASES)
def test_node_pdus_decode_to_the_same_fields_in_ours(node, command, fields, checks):
    data = node.encode(command, **fields)
    ours = ours_decode(data)
    assert ours["command_id"] == command
    assert ours["sequence_number"] == fields["sequence_number"]
    for key, value in checks.items():
        got = dig(ours, key) if isinstance(key, tuple) else ours[key]
        assert got == value, f"{key}: ours {got!r}, Node wrote {value!r}"
    # The octets we write back are Node's.
    assert ours_encode(ours) == data
    # And Node reads what we write to the same fields it wrote.
    theirs = node.decode(ours_encode(ours))
    assert theirs["command"] == command
    assert theirs["fields"]["sequence_number"] == fields["sequence_number"]


OURS_FOR_NODE = [
    pytest.param(
        {"command_id": "submit_sm", "sequence_number": 31, "source_addr_ton": 5, "source_addr": "Info@Home", "destination_addr": "336",
         "registered_delivery": 1, "data_coding": 8, "short_message": {"text": "Привет 😀"},
         "tlvs": [{"tag": "user_message_reference", "value": 9}, {"tag": "0x1400", "hex": "0a0b"}]},
        {"source_addr": "Info@Home", "registered_delivery": 1, "data_coding": 8, "user_message_reference": 9, ("short_message", "message"): "Привет 😀"},
        id="submit_sm-ucs2",
    ),
    pytest.param(
        {"command_id": "submit_multi", "sequence_number": 32, "source_addr": "ACME",
         "dest_address": [{"dest_flag": 1, "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "111"}, {"dest_flag": 2, "dl_name": "list"}],
         "short_message": {"hex": "6869"}},
        {("dest_address", 0, "destination_addr"): "111", ("dest_address", 1, "dl_name"): "list"},
        id="submit_multi",
    ),
    pytest.param(
        {"command_id": "submit_multi_resp", "sequence_number": 32, "message_id": "m",
         "unsuccess_sme": [{"dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "111", "error_status_code": "ESME_RINVDSTADR"}]},
        {"message_id": "m", ("unsuccess_sme", 0, "destination_addr"): "111", ("unsuccess_sme", 0, "error_status_code"): 11},
        id="submit_multi_resp",
    ),
    pytest.param(
        {"command_id": "deliver_sm", "sequence_number": 33, "esm_class": 4, "source_addr": "336", "destination_addr": "ACME",
         "short_message": "id:abc stat:DELIVRD err:000",
         "tlvs": [{"tag": "receipted_message_id", "value": "abc"}, {"tag": "message_state", "value": 2}]},
        {"esm_class": 4, "receipted_message_id": "abc", "message_state": 2, ("short_message", "message"): "id:abc stat:DELIVRD err:000"},
        id="deliver_sm-receipt",
    ),
    pytest.param(
        {"command_id": "bind_transceiver_resp", "sequence_number": 34, "system_id": "smppgw", "tlvs": [{"tag": "sc_interface_version", "value": 52}]},
        {"system_id": "smppgw", "sc_interface_version": 0x34},
        id="bind_transceiver_resp",
    ),
    pytest.param(
        {"command_id": "query_sm_resp", "sequence_number": 35, "message_id": "m", "final_date": "240131120000000+", "message_state": 2, "error_code": 0},
        {"message_id": "m", "final_date": {"date": "2024-01-31T12:00:00.000Z"}, "message_state": 2},
        id="query_sm_resp",
    ),
    pytest.param(
        {"command_id": "broadcast_sm_resp", "sequence_number": 36, "message_id": "b1"}, {"message_id": "b1"}, id="broadcast_sm_resp",
    ),
]


def node_field(theirs: dict[str, Any], key: Any) -> Any:
    fields = theirs["fields"]
    if isinstance(key, tuple):
        v: Any = fields
        for p in key:
            v = v[p]
        return v
    return fields[key]


@pytest.mark.parametrize(("doc", "expected"), OURS_FOR_NODE)
def test_our_pdus_decode_in_node(node, doc, expected):
    data = ours_encode(doc)
    theirs = node.decode(data)
    assert theirs["command"] == doc["command_id"]
    assert theirs["fields"]["sequence_number"] == doc["sequence_number"]
    assert theirs["fields"]["command_length"] == len(data)
    for key, value in expected.items():
        assert node_field(theirs, key) == value, f"{key}: Node read {node_field(theirs, key)!r}"


# ----------------------------------------------------------------------------------------------
# Texts in both directions

TEXTS = [
    pytest.param("GSM {} [x] ~ \\ | ^ €5 @£$¥ èé", 0, id="gsm-extension"),
    pytest.param("Привет мир 😀 你好", 8, id="ucs2-surrogates"),
    pytest.param("héllo wörld", 3, id="latin1"),
    pytest.param("plain ascii", 1, id="ia5"),
]


@pytest.mark.parametrize(("text", "data_coding"), TEXTS)
def test_texts_written_by_node_read_by_ours(node, text, data_coding):
    data = node.encode("submit_sm", sequence_number=1, source_addr="1", destination_addr="2", data_coding=data_coding, short_message=text)
    ours = ours_decode(data)
    assert ours["data_coding"] == data_coding
    assert ours["short_message"]["text"] == text


@pytest.mark.parametrize(("text", "data_coding"), TEXTS)
def test_texts_written_by_ours_read_by_node(node, text, data_coding):
    data = ours_encode({"command_id": "deliver_sm", "sequence_number": 2, "data_coding": data_coding, "short_message": {"text": text}})
    theirs = node.decode(data)
    assert theirs["fields"]["short_message"]["message"] == text


def test_concatenated_part_from_node(node):
    udh = bytes([5, 0, 3, 0x2A, 2, 1])
    data = node.encode("submit_sm", sequence_number=3, source_addr="1", destination_addr="2", data_coding=0,
                       short_message={"udh": hexv(udh), "message": "first part"})
    ours = ours_decode(data)
    assert ours["esm_class"] & 0x40
    sm = ours["short_message"]
    assert (sm["udh"]["reference"], sm["udh"]["total"], sm["udh"]["seqnum"]) == (0x2A, 2, 1)
    assert sm["text"] == "first part"
    # And ours, read by Node.
    theirs = node.decode(ours_encode(ours))
    assert theirs["fields"]["short_message"]["message"] == "first part"


def test_turkish_locking_shift_agrees_with_node(node):
    # Only the locking shift (IEI 0x25) is compared: for a single shift (IEI 0x24) the Node
    # package writes the *locking* table's codes (e.g. ı as 0x07) where TS 23.038 §6.2.1.2.4
    # wants ESC + the single shift table's code (ı = ESC 0x69), which is what ours reads and
    # writes (crates/smpp-codec/src/text.rs tests).
    text = "Günaydın çalışma şöyle İstanbul"
    udh = bytes([3, 0x25, 1, 1])  # locking shift, length 1, Turkish
    data = node.encode("deliver_sm", sequence_number=4, source_addr="1", destination_addr="2", short_message={"udh": hexv(udh), "message": text})
    ours = ours_decode(data)
    assert ours["short_message"]["udh"]["national_locking_shift"] == 1
    assert ours["short_message"]["text"] == text
    assert node.decode(ours_encode(ours))["fields"]["short_message"]["message"] == text
