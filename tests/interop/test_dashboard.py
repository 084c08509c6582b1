"""The web dashboard end to end in headless Chromium (tests/e2e/dashboard.mjs, playwright-core
with Debian's /usr/bin/chromium): log in, live status, a client peer added through the form
turning Connected then Disconnected when disabled, an invalid CIDR shown beside its field, logs,
charts, phone width; a cached message failed permanently and retried from the page.

Screenshots go to tests/e2e/artifacts/ (gitignored; DASH_SHOTS overrides), their paths printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from cache_support import ADMIN_TOKEN, StubCore, cache_entries, configure_cache_gateway, pipelined_submits
from smpp_helpers import REPO, NodeSmsc, free_port, wait_for

E2E = REPO / "tests" / "e2e"
SHOTS = Path(os.environ.get("DASH_SHOTS") or E2E / "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def run_scenario(name: str, admin_port: int, auth: dict, params: dict) -> str:
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: apt-get install chromium (scripts/test.sh does)"
    assert (E2E / "node_modules" / "playwright-core").is_dir(), f"playwright-core missing: run `npm ci` in {E2E}"
    env = dict(os.environ, DASH_URL=f"http://127.0.0.1:{admin_port}/", DASH_AUTH=json.dumps(auth),
               DASH_PARAMS=json.dumps(params), DASH_SHOTS=str(SHOTS / name), CHROMIUM=CHROMIUM)
    p = subprocess.run(["node", str(E2E / "dashboard.mjs"), name], cwd=E2E, env=env, capture_output=True, text=True, timeout=240)
    print(p.stdout)
    assert p.returncode == 0, f"scenario {name} failed (exit {p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p.stdout


def test_dashboard_login_status_peers_logs_charts(gateway_factory, node_smsc_factory):
    smsc_port = free_port()
    smsc = node_smsc_factory(smsc_port, system_id="dashsim", password="dashpw")
    smsc.start()
    gw = gateway_factory(free_port())  # its own carrier bind points where nothing listens
    gw.start()
    token_file = gw.workdir / "data" / "admin.token"
    token = wait_for(lambda: token_file.is_file() and token_file.read_text().strip(), 10, "the generated admin token")
    out = run_scenario("peers", gw.admin_port, {"token": token}, {
        "peer": "dashpeer", "smsc_port": smsc_port, "smsc_system_id": "dashsim", "smsc_password": "dashpw",
        "smpp_port": gw.smpp_port, "max_connections": gw.config["listen"]["max_connections"],
    })
    assert "scenario peers: ok" in out
    # What the page did is what the gateway holds: the SMSC saw our bind, then its unbind.
    assert smsc.find(lambda e: e["event"] == "bind" and e.get("ok")), smsc.snapshot()[-10:]
    wait_for(lambda: not smsc.bound(), 10, "the disabled peer's session closed at the SMSC")
    log = gw.log_tail(2000)
    assert token not in log, "the credential is never logged"
    assert "peer added through the admin API" in log


def test_dashboard_retries_a_failed_permanent_message(gateway_factory, monkeypatch):
    monkeypatch.setenv("CACHE_MAX_RETRY_ATTEMPTS", "1")
    monkeypatch.setenv("CACHE_BACKOFF_MULTIPLIER", "1")
    core = StubCore(free_port())  # down
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False, cache_retry_interval=1)
    gw.config["admin"].update(username="ops", password="dash-basic-secret")
    gw.start()
    answers, unanswered = pipelined_submits(gw.smpp_port, "partner", ["dashboard retry"], window=1)
    assert not unanswered and answers[0].status == 0, answers
    msg_id = answers[0].message_id
    failed = wait_for(lambda: cache_entries(gw, "partner", "failed_permanent"), 20, "the message failed permanently")
    assert [e["id"] for e in failed] == [msg_id]
    core.start()  # the core is back: the retry from the page delivers it
    try:
        out = run_scenario("cache", gw.admin_port, {"username": "ops", "password": "dash-basic-secret"},
                           {"bind": "partner", "id": msg_id, "retry_count": failed[0]["retry_count"]})
        assert "scenario cache: ok" in out
        assert "dashboard retry" in core.stored_texts()
        assert ADMIN_TOKEN not in gw.log_tail(2000) and "dash-basic-secret" not in gw.log_tail(2000)
    finally:
        core.stop()
