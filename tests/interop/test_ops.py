"""What operators do to a running smppgw, seen on the wire by SMPP software we did not write.

- the configuration is refused by key, and a refused file starts nothing;
- peers edited through the admin API while a Python smpplib partner is bound, and while the
  gateway is bound to a Node `smpp` carrier: the change shows in the next PDU or bind;
- a disabled peer unbinds and refuses binds;
- the metrics after a scripted scenario show exactly what happened;
- SIGHUP re-reads the file; SIGTERM unbinds everyone and exits within its bound;
- no password or token shows in logs, status or CLI output.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from typing import Any, Optional

import pytest
import requests
import smpplib.exceptions
import smpplib.smpp

from smpp_helpers import Gateway, Partner, free_port, gsm_encode, port_open, smppgw_bin, to_toml, unique_msisdn, wait_for

TOKEN = "ops-test-token-8c4e1f0a9b"
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RTHROTTLED = 0x58


def with_admin(gw: Gateway) -> Gateway:
    gw.config["admin"]["token"] = TOKEN
    return gw


def admin(gw: Gateway, method: str, path: str, body: Optional[dict] = None, expect: int = 200) -> Any:
    r = requests.request(
        method,
        f"http://127.0.0.1:{gw.admin_port}{path}",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def metrics(gw: Gateway) -> dict[tuple[str, frozenset], float]:
    """The /metrics text as {(name, labels): value}."""
    text = requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=5).text
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$", line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(snapshot: dict, name: str, **labels: str) -> float:
    """The one series of `name` whose labels include `labels` (0 when absent)."""
    hits = [v for (n, ls), v in snapshot.items() if n == name and set(labels.items()) <= set(ls)]
    assert len(hits) <= 1, f"{name}{labels}: {len(hits)} series"
    return hits[0] if hits else 0.0


def bound_sessions(smsc) -> list[dict]:
    return [e for e in smsc.snapshot() if e["event"] == "bind"]


def answer_unbind(partner: Partner, timeout: float) -> None:
    """Wait for the gateway's unbind and answer it, as a well-behaved ESME does."""
    pdu = partner.read_until(lambda p: p.command == "unbind", timeout, "the gateway's unbind")
    resp = smpplib.smpp.make_pdu("unbind_resp", client=partner.client)
    resp.sequence = pdu.sequence
    partner.client.send_pdu(resp)


def bind_status(port: int, kind: str, system_id: str, password: str) -> int:
    """Bind once and close: 0, or the status the bind was refused with."""
    p = Partner(port)
    try:
        return p.bind(kind, system_id, password).status
    except smpplib.exceptions.PDUError as e:
        return e.args[1]
    finally:
        p.close()


# ----------------------------------------------------------------------------------------------


def test_check_config_lists_every_problem_by_key_and_run_starts_nothing(tmp_path):
    smpp_port = free_port()
    bad = {
        "smpp_pol_interval": 100,
        "listen": {"host": "127.0.0.1", "port": smpp_port},
        "admin": {"host": "127.0.0.1", "port": free_port()},
        "metrics": {"host": "not-an-ip", "port": free_port()},
        "binds": [
            {"name": "carrier", "host": "127.0.0.1", "system_id": "gw", "password": "pw", "tps_limit": 0},
            {"name": "carrier", "host": "127.0.0.1", "system_id": "gw", "password": "pw", "port": "x"},
        ],
        "server_binds": [{"name": "partner", "system_id": "p", "password": "pw", "ip_whitelist": ["10.0.0.0/33"]}],
    }
    path = tmp_path / "bad.toml"
    path.write_text(to_toml(bad))
    out = subprocess.run([str(smppgw_bin()), "check-config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2, out
    lines = out.stderr.splitlines()
    for key in ["smpp_pol_interval", "metrics.host", "binds[0].tps_limit", "binds[1].name", "binds[1].port", "server_binds[0].ip_whitelist[0]"]:
        assert any(line.startswith(f"{path}: {key}: ") for line in lines), f"no line for {key} in:\n{out.stderr}"

    # Started with it, the gateway prints the same problems, exits 2, and never listened.
    run = subprocess.Popen([str(smppgw_bin()), "run", "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = run.communicate(timeout=30)
    finally:
        run.kill()
    assert run.returncode == 2, err
    assert "binds[0].tps_limit" in err and "nothing started" in err
    assert not port_open(smpp_port)

    # An environment override with a bad value is named too.
    good = tmp_path / "good.toml"
    good.write_text(to_toml({"binds": [{"name": "c", "host": "127.0.0.1", "system_id": "gw", "password": "pw"}]}))
    out = subprocess.run(
        [str(smppgw_bin()), "check-config", str(good)], capture_output=True, text=True, timeout=30, env=dict(os.environ, SMPP_POLL_INTERVAL="fast")
    )
    assert out.returncode == 2 and "smpp_poll_interval" in out.stderr and "SMPP_POLL_INTERVAL" in out.stderr, out
    out = subprocess.run([str(smppgw_bin()), "check-config", str(good)], capture_output=True, text=True, timeout=30, env=dict(os.environ, SMPP_POLL_INTERVAL="250"))
    assert out.returncode == 0, out


def test_partner_edits_apply_to_the_next_pdu_and_bind_while_bound(gateway_factory, partner_factory):
    gw = with_admin(gateway_factory(free_port()))
    gw.start()
    partner = partner_factory(gw.smpp_port)
    partner.bind("transceiver", "partner", "pw")
    dst = unique_msisdn("337")
    assert partner.submit(short_message=gsm_encode("before"), source_addr="33600000001", destination_addr=dst).status == 0

    # Source address whitelist: the very next submit_sm on the same session sees it.
    admin(gw, "PATCH", "/api/v1/peers/server/partner", {"source_address_whitelist": ["MyBrand", "447*"]})
    resp = partner.submit(short_message=gsm_encode("blocked"), source_addr="33600000001", source_addr_ton=1, destination_addr=dst)
    assert resp.status == ESME_RINVSRCADR, f"{resp.status:#x}"
    resp = partner.submit(short_message=gsm_encode("brand"), source_addr="MyBrand", source_addr_ton=5, source_addr_npi=0, destination_addr=dst)
    assert resp.status == 0, f"{resp.status:#x}"
    resp = partner.submit(short_message=gsm_encode("prefix"), source_addr="447700900123", destination_addr=dst)
    assert resp.status == 0, f"{resp.status:#x}"

    # TPS: at 1 per second, a burst gets ESME_RTHROTTLED on the live session.
    admin(gw, "PATCH", "/api/v1/peers/server/partner", {"tps_limit": 1})
    # Submit until one is accepted (the second's one slot); the next one, at once, is throttled.
    statuses: list[int] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (len(statuses) >= 2 and statuses[-2] == 0 and statuses[-1] == ESME_RTHROTTLED):
        statuses.append(partner.submit(short_message=gsm_encode("burst"), source_addr="MyBrand", source_addr_ton=5, destination_addr=dst).status)
    assert statuses[-2:] == [0, ESME_RTHROTTLED], statuses
    assert set(statuses) <= {0, ESME_RTHROTTLED}, statuses

    # Password: the live session stays; the next bind needs the new one.
    admin(gw, "PATCH", "/api/v1/peers/server/partner", {"password": "rotated", "tps_limit": 100})
    assert partner.submit(short_message=gsm_encode("still bound"), source_addr="MyBrand", source_addr_ton=5, destination_addr=dst).status == 0
    assert bind_status(gw.smpp_port, "transmitter", "partner", "pw") == ESME_RINVPASWD
    assert bind_status(gw.smpp_port, "transmitter", "partner", "rotated") == 0

    # Persisted: after a restart the edit still overrides the file.
    partner.close()
    assert gw.stop() == 0
    gw.start()
    assert bind_status(gw.smpp_port, "transmitter", "partner", "pw") == ESME_RINVPASWD
    assert bind_status(gw.smpp_port, "transmitter", "partner", "rotated") == 0
    peer = admin(gw, "GET", "/api/v1/peers/server/partner")
    assert peer["origin"] == "edited" and peer["source_address_whitelist"] == ["MyBrand", "447*"]


def test_carrier_edit_rebinds_with_the_new_parameters(gateway_factory, node_smsc_factory):
    carrier_port = free_port()
    smsc = node_smsc_factory(carrier_port, system_id="gw2", password="secret2")
    smsc.start()
    gw = with_admin(gateway_factory(carrier_port))
    gw.start()
    # The file's credentials are refused by the carrier.
    smsc.wait_event(lambda e: e["event"] == "bind" and not e["ok"] and e["system_id"] == "gw", 20, "a refused bind with the file's system_id")
    assert admin(gw, "GET", "/api/v1/status/carrier")["state"] != "connected"

    admin(gw, "PATCH", "/api/v1/peers/client/carrier", {"system_id": "gw2", "password": "secret2", "system_type": "OTP", "addr_ton": 1})
    ok = smsc.wait_event(lambda e: e["event"] == "bind" and e["ok"], 20, "a bind with the edited credentials")
    assert (ok["system_id"], ok["system_type"], ok["addr_ton"]) == ("gw2", "OTP", 1), ok
    wait_for(lambda: admin(gw, "GET", "/api/v1/status/carrier")["state"] == "connected", 10, "status connected")

    # A TPS change applies to the live session: no new bind.
    binds_before = len(bound_sessions(smsc))
    admin(gw, "PATCH", "/api/v1/peers/client/carrier", {"tps_limit": 10})
    time.sleep(1.5)  # long enough for a reconnect to show, if one (wrongly) happened
    assert len(bound_sessions(smsc)) == binds_before
    assert admin(gw, "GET", "/api/v1/status/carrier")["tps_limit"] == 10

    # Disabled: the gateway unbinds from the carrier and stays away.
    admin(gw, "POST", "/api/v1/peers/client/carrier/disable")
    smsc.wait_event(lambda e: e["event"] == "unbind", 15, "the gateway's unbind at the carrier")
    assert admin(gw, "GET", "/api/v1/status/carrier")["state"] == "disabled"
    time.sleep(1.5)
    assert len(bound_sessions(smsc)) == binds_before
    admin(gw, "POST", "/api/v1/peers/client/carrier/enable")
    wait_for(lambda: len([e for e in bound_sessions(smsc) if e["ok"]]) == 2, 20, "the bind after enable")


def test_disabled_partner_unbinds_and_refuses_binds(gateway_factory, partner_factory):
    gw = with_admin(gateway_factory(free_port()))
    gw.start()
    partner = partner_factory(gw.smpp_port)
    partner.bind("transceiver", "partner", "pw")
    assert admin(gw, "GET", "/api/v1/status/partner")["sessions"] == 1

    admin(gw, "POST", "/api/v1/peers/server/partner/disable")
    answer_unbind(partner, 10)
    wait_for(lambda: admin(gw, "GET", "/api/v1/status/partner")["state"] == "disabled", 10, "status disabled")
    assert bind_status(gw.smpp_port, "transceiver", "partner", "pw") == ESME_RBINDFAIL
    assert metric(metrics(gw), "smppgw_peer_enabled", bind_name="partner") == 0

    admin(gw, "POST", "/api/v1/peers/server/partner/enable")
    assert bind_status(gw.smpp_port, "transceiver", "partner", "pw") == 0
    assert metric(metrics(gw), "smppgw_peer_enabled", bind_name="partner") == 1

    # Emergency disconnect: drop closes the partner's connection at once.
    again = partner_factory(gw.smpp_port)
    again.bind("transceiver", "partner", "pw")
    assert admin(gw, "POST", "/api/v1/binds/partner/drop")["connections"] == 1
    with pytest.raises((smpplib.exceptions.ConnectionError, AssertionError, OSError)):
        again.read_until(lambda p: False, 5, "the connection to close")


def test_metrics_after_a_scripted_scenario_show_exact_values(gateway_factory, node_smsc_factory, partner_factory):
    n_ok, m_failed = 5, 2
    carrier_port = free_port()
    smsc = node_smsc_factory(carrier_port)
    smsc.args += ["--reject-prefix", "3399", "--reject-status", str(ESME_RINVDSTADR)]
    smsc.start()
    gw = with_admin(gateway_factory(carrier_port))
    gw.start()
    wait_for(smsc.bound, 20, "the carrier bind")
    wait_for(lambda: metric(metrics(gw), "smpp_connection_status", bind_name="carrier") == 1, 10, "connection_status 1")

    partner = partner_factory(gw.smpp_port)
    partner.bind("transmitter", "partner", "pw")
    dests = [unique_msisdn("337") for _ in range(n_ok)] + [unique_msisdn("3399") for _ in range(m_failed)]
    for i, d in enumerate(dests):
        resp = partner.submit(short_message=gsm_encode(f"scenario {i}"), destination_addr=d, registered_delivery=0)
        assert resp.status == 0, f"{resp.status:#x}"
    wait_for(lambda: len(smsc.find(lambda e: e["event"] == "submit_sm")) == n_ok, 30, f"{n_ok} accepted submit_sm at the carrier")
    wait_for(lambda: len(smsc.find(lambda e: e["event"] == "submit_rejected")) == m_failed, 30, f"{m_failed} rejected at the carrier")
    wait_for(lambda: metric(metrics(gw), "smpp_delivery_failures_total", bind_name="carrier") == m_failed, 10, "the failures counted")

    # One reconnect, asked by the operator.
    admin(gw, "POST", "/api/v1/binds/carrier/reconnect")
    wait_for(lambda: len([e for e in bound_sessions(smsc) if e["ok"]]) == 2, 20, "the second bind")
    wait_for(lambda: metric(metrics(gw), "smpp_connection_status", bind_name="carrier") == 1, 10, "connection_status back to 1")

    s = metrics(gw)
    carrier = dict(bind_name="carrier", mode="client", host="127.0.0.1", port=str(carrier_port), bind_type="transceiver", system_id="gw")
    expected = {
        ("smpp_messages_received_total", "partner"): n_ok + m_failed,
        ("smpp_messages_sent_total", "carrier"): n_ok + m_failed,
        ("smpp_delivery_failures_total", "carrier"): m_failed,
        ("smpp_bind_success_total", "carrier"): 2,
        ("smpp_connection_attempts_total", "carrier"): 2,
        ("smpp_disconnection_total", "carrier"): 1,
        ("smpp_bind_success_total", "partner"): 1,
        ("smpp_delivery_failures_total", "partner"): 0,
        ("smpp_messages_sent_total", "partner"): 0,
        ("smpp_bind_failures_total", "carrier"): 0,
    }
    got = {(name, bind): metric(s, name, bind_name=bind) for (name, bind) in expected}
    assert got == expected
    # The seed's label set on the client bind's series.
    assert metric(s, "smpp_messages_sent_total", **carrier) == n_ok + m_failed
    assert metric(s, "smppgw_response_latency_seconds_count", bind_name="carrier") == n_ok + m_failed
    assert metric(s, "smppgw_window_occupancy_count", bind_name="carrier") == n_ok + m_failed
    assert metric(s, "smppgw_core_api_duration_seconds_count", call="post_messages") >= 1
    # The status API counts the same.
    st = admin(gw, "GET", "/api/v1/status/carrier")
    assert (st["sent"], st["failed"], st["state"]) == (n_ok + m_failed, m_failed, "connected")


def test_sighup_rereads_the_file_and_a_bad_file_changes_nothing(gateway_factory):
    gw = with_admin(gateway_factory(free_port()))
    gw.start()
    assert bind_status(gw.smpp_port, "transmitter", "late", "late-pw") != 0

    # A run-time edit of `partner` must survive the re-read; `late` comes from the file.
    admin(gw, "PATCH", "/api/v1/peers/server/partner", {"tps_limit": 7})
    gw.config["server_binds"].append({"name": "late", "system_id": "late", "password": "late-pw", "tps_limit": 5})
    gw.config["server_binds"][0]["password"] = "file-changed"
    gw.config_path.write_text(to_toml(gw.config))
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: bind_status(gw.smpp_port, "transmitter", "late", "late-pw") == 0, 10, "the peer added to the file binds after SIGHUP")
    peer = admin(gw, "GET", "/api/v1/peers/server/partner")
    assert peer["tps_limit"] == 7 and peer["origin"] == "edited"
    assert bind_status(gw.smpp_port, "transmitter", "partner", "pw") == 0, "the edited peer kept its definition"

    # A broken file: nothing changes, the gateway keeps running and says why.
    gw.config_path.write_text(to_toml(gw.config) + "\n[[server_binds]]\nname = \"late\"\nsystem_id = \"x\"\npassword = \"y\"\nip_whitelist = [\"1.2.3.4/99\"]\n")
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "configuration not reloaded" in gw.log_tail(200), 10, "the refusal in the log")
    tail = gw.log_tail(200)
    assert "ip_whitelist[0]" in tail and "duplicate peer name" in tail, tail
    assert gw.proc.poll() is None
    assert bind_status(gw.smpp_port, "transmitter", "late", "late-pw") == 0

    # `smppgw reload` does the same through the API.
    gw.config_path.write_text(to_toml(gw.config))
    out = subprocess.run([str(smppgw_bin()), "reload", "--config", str(gw.config_path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out


def test_sigterm_unbinds_every_session_and_exits_within_its_bound(gateway_factory, node_smsc_factory, partner_factory):
    carrier_port = free_port()
    smsc = node_smsc_factory(carrier_port)
    smsc.start()
    gw = gateway_factory(carrier_port)
    gw.config["shutdown_timeout"] = 10
    gw.start()
    wait_for(smsc.bound, 20, "the carrier bind")
    partners = [partner_factory(gw.smpp_port) for _ in range(2)]
    partners[0].bind("transceiver", "partner", "pw")
    partners[1].bind("receiver", "partner", "pw")

    proc = gw.proc
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    for p in partners:
        answer_unbind(p, 10)
    smsc.wait_event(lambda e: e["event"] == "unbind", 10, "the gateway's unbind at the carrier")
    wait_for(lambda: not port_open(gw.smpp_port), 10, "the listener to stop accepting")
    code = proc.wait(15)
    elapsed = time.monotonic() - t0
    gw.proc = None
    assert code == 0, f"exit code {code}\n{gw.log_tail(40)}"
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert "stopped" in gw.log_tail(20)


def test_no_secret_in_logs_status_or_cli_output(gateway_factory, partner_factory):
    gw = with_admin(gateway_factory(free_port()))
    gw.config["admin"]["username"] = "ops"
    gw.config["admin"]["password"] = "basic-pass-6d1e"
    gw.config["log"]["level"] = "debug"
    gw.config["binds"][0]["password"] = "carrier-pass-51f2"
    gw.start()
    # Things that touch every secret: binds with wrong and right passwords, password edits,
    # admin calls with the token, with Basic, and with a wrong token.
    assert bind_status(gw.smpp_port, "transceiver", "partner", "wrong-guess-77a1") == ESME_RINVPASWD
    assert bind_status(gw.smpp_port, "transceiver", "partner", "pw") == 0
    admin(gw, "PATCH", "/api/v1/peers/server/partner", {"password": "rotated-pass-90c3"})
    admin(gw, "PATCH", "/api/v1/peers/client/carrier", {"password": "carrier-pass-2-a8"})
    admin(gw, "POST", "/api/v1/peers/server", {"name": "acme", "system_id": "acme", "password": "acme-pass-3b7d"}, expect=201)
    r = requests.get(f"http://127.0.0.1:{gw.admin_port}/api/v1/status", headers={"Authorization": "Bearer wrong-token-value-123"}, timeout=5)
    assert r.status_code == 401
    r = requests.get(f"http://127.0.0.1:{gw.admin_port}/api/v1/status", auth=("ops", "basic-pass-6d1e"), timeout=5)
    assert r.status_code == 200

    outputs = [gw.log_tail(100000)]
    for path in ["/api/v1/status", "/api/v1/peers", "/api/v1/config", "/api/v1/logs?limit=10000", "/api/v1/peers/server/acme"]:
        outputs.append(requests.get(f"http://127.0.0.1:{gw.admin_port}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).text)
    for args in (["status"], ["peers", "list"], ["peers", "show", "server", "acme"], ["logs", "--limit", "1000"]):
        out = subprocess.run([str(smppgw_bin()), *args, "--config", str(gw.config_path)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out
        outputs.append(out.stdout + out.stderr)
    outputs.append(requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=5).text)
    everything = "\n".join(outputs)
    assert "partner" in everything and "acme" in everything and "********" in everything
    for secret in [TOKEN, "basic-pass-6d1e", "carrier-pass-51f2", "wrong-guess-77a1", "rotated-pass-90c3", "carrier-pass-2-a8", "acme-pass-3b7d", "wrong-token-value-123"]:
        assert secret not in everything, f"{secret!r} leaked"


def test_json_logs_are_one_object_per_line(gateway_factory, partner_factory):
    import json

    gw = with_admin(gateway_factory(free_port()))
    gw.config["log"]["format"] = "json"
    gw.start()
    assert bind_status(gw.smpp_port, "transceiver", "partner", "pw") == 0
    wait_for(lambda: "partner bound" in gw.log_tail(200), 10, "the bind in the log")
    records = [json.loads(line) for line in gw.log_tail(500).splitlines() if line and not line.startswith("=====")]
    assert records, "no log line"
    bound = [r for r in records if r.get("fields", {}).get("message") == "partner bound"]
    assert bound and bound[0]["level"] == "INFO" and bound[0]["fields"]["peer"] == "partner", bound
