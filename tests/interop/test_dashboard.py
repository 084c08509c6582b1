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
from smpp_helpers import REPO, NodeSmsc, free_port, smppgw_bin as gw_binary, wait_for

E2E = REPO / "tests" / "e2e"
SHOTS = Path(os.environ.get("DASH_SHOTS") or E2E / "artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def run_scenario(name: str, admin_port: int, auth: dict, params: dict, scheme: str = "http") -> str:
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: apt-get install chromium (scripts/test.sh does)"
    assert (E2E / "node_modules" / "playwright-core").is_dir(), f"playwright-core missing: run `npm ci` in {E2E}"
    env = dict(os.environ, DASH_URL=f"{scheme}://127.0.0.1:{admin_port}/", DASH_AUTH=json.dumps(auth),
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


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """An EC P-256 certificate for 127.0.0.1/localhost (not a CA: rustls refuses a CA as a
    server's leaf), made with the openssl command line as an operator would."""
    cert, key = directory / "admin-cert.pem", directory / "admin-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:FALSE"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


def test_dashboard_and_api_over_https(gateway_factory, tmp_path):
    import requests
    import socket
    import ssl

    cert, key = make_self_signed(tmp_path)
    gw = gateway_factory(free_port())
    gw.config["admin"].update(tls_cert_file=str(cert), tls_key_file=str(key),
                              username="ops", password="https-basic-secret")
    gw.start()
    base = f"https://127.0.0.1:{gw.admin_port}"
    wait_for(lambda: requests.get(f"{base}/api/v1/health", verify=str(cert), timeout=2).ok, 15, "the admin API over https")

    # The dashboard's page and assets, verified against the operator's certificate.
    page = requests.get(f"{base}/", verify=str(cert), timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"], page.status_code
    assert "smppgw" in page.text and 'src="/ui/app.js"' in page.text.replace("'", '"'), page.text[:300]
    assert requests.get(f"{base}/ui/app.js", verify=str(cert), timeout=5).status_code == 200
    # An API call: the same authentication as over plain HTTP.
    assert requests.get(f"{base}/api/v1/status", verify=str(cert), timeout=5).status_code == 401
    binds = requests.get(f"{base}/api/v1/status", auth=("ops", "https-basic-secret"), verify=str(cert), timeout=5)
    assert binds.status_code == 200, binds.text
    assert {"carrier", "partner"} <= {b["name"] for b in binds.json()["binds"]}, binds.text[:300]
    # The TLS session really is TLS 1.2+, with our certificate.
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", gw.admin_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3"), tls.version()
            assert tls.getpeercert()["subject"] == ((("commonName", "localhost"),),)

    # Plain HTTP on the HTTPS port gets no page; the listener keeps serving HTTPS after it.
    try:
        plain = requests.get(f"http://127.0.0.1:{gw.admin_port}/", timeout=5)
        assert plain.status_code != 200 or "smppgw" not in plain.text, "plain HTTP must not be served on the TLS port"
    except requests.exceptions.RequestException:
        pass
    assert requests.get(f"{base}/api/v1/health", verify=str(cert), timeout=5).ok

    # The CLI on the same host reaches it over https, trusting the configured certificate.
    cli = subprocess.run([str(gw_binary()), "peers", "list", "--config", str(gw.config_path)],
                         capture_output=True, text=True, timeout=30)
    assert cli.returncode == 0, cli.stderr
    assert "carrier" in cli.stdout and "partner" in cli.stdout, cli.stdout

    # And in Chromium: log in, live status over the TLS port.
    out = run_scenario("https", gw.admin_port, {"username": "ops", "password": "https-basic-secret"},
                       {"smpp_port": gw.smpp_port}, scheme="https")
    assert "scenario https: ok" in out
    assert "https-basic-secret" not in gw.log_tail(2000)


def test_the_cli_names_why_it_refuses_an_admin_certificate(gateway_factory, tmp_path):
    # openssl's default for `req -x509` is a CA certificate, which rustls refuses as a server's
    # own: the CLI's error must say so rather than only "error sending request".
    cert, key = tmp_path / "ca-cert.pem", tmp_path / "ca-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    gw = gateway_factory(free_port())
    gw.config["admin"].update(tls_cert_file=str(cert), tls_key_file=str(key), token="cli-cert-test-token-0123")
    gw.start()
    cli = subprocess.run([str(gw_binary()), "peers", "list", "--config", str(gw.config_path)],
                         capture_output=True, text=True, timeout=30)
    assert cli.returncode != 0, cli.stdout
    assert "CaUsedAsEndEntity" in cli.stderr, cli.stderr
    assert "panicked" not in cli.stderr
