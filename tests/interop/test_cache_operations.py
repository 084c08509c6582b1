"""The seed's schedule end to end, failed_permanent kept for review, the operator's retry and
delete through `smppgw cache …`, and overflow evicting the oldest — with the seed's
environment variables (`CACHE_MAX_RETRY_ATTEMPTS`, `CACHE_BACKOFF_MULTIPLIER`,
`MNESIA_STORAGE_TYPE`). (The schedule's exact times are checked with explicit time in
`crates/retry-cache/tests/schedule.rs`; here the interval is 1 s.)
"""

from __future__ import annotations

from cache_support import StubCore, bind_line, cache_entries, cache_summary, configure_cache_gateway, metric, pipelined_submits, run_cli
from smpp_helpers import Gateway, assert_holds, free_port, wait_for

ESME_ROK = 0
ESME_RSUBMITFAIL = 0x45


def submit(gw: Gateway, text: str) -> tuple[int, str]:
    answers, unanswered = pipelined_submits(gw.smpp_port, "partner", [text], window=1)
    assert not unanswered and len(answers) == 1
    return answers[0].status, answers[0].message_id


def test_failed_permanent_after_the_last_attempt_then_operator_retry_and_delete(gateway_factory, monkeypatch):
    monkeypatch.setenv("CACHE_MAX_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("CACHE_BACKOFF_MULTIPLIER", "1")
    core = StubCore(free_port())  # down
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False, cache_retry_interval=1)
    gw.start()

    ids = {}
    for name in ("A", "B", "C"):
        status, ids[name] = submit(gw, name)
        assert status == ESME_ROK, f"{name}: {status:#x}"

    # Tried at once, then after 1 s twice (multiplier 1): failed_permanent after the 2nd retry.
    failed = wait_for(lambda: (lambda f: f if len(f) == 3 else None)(cache_entries(gw, "partner", "failed_permanent")), 20,
                      "A, B and C failed_permanent")
    assert [(e["id"], e["retry_count"]) for e in failed] == [(ids["A"], 2), (ids["B"], 2), (ids["C"], 2)]
    assert all("core unreachable" in e["last_error"] for e in failed), failed
    log = gw.log_tail(400)
    assert f"Delivery failed for message {ids['A']} (retry 1/2), next retry at " in log
    assert f"Message {ids['A']} exceeded the maximum number of retries (2), marked failed_permanent" in log
    assert metric(gw, "smpp_cache_permanent_failures_total", bind_name="partner") == 3
    assert metric(gw, "smpp_cache_retry_total", bind_name="partner") == 6
    listing = run_cli(gw, "list", "partner", "--status", "failed_permanent")
    assert listing.returncode == 0 and all(ids[n] in listing.stdout for n in "ABC"), listing
    line = bind_line(gw, "partner")
    assert (line["total"], line["pending"], line["failed_permanent"]) == (3, 0, 3), line

    # The core is back: failed_permanent entries stay for review, nothing goes by itself.
    core.refuse_texts = {"E", "F"}
    core.start()
    assert_holds(lambda: core.snapshot()[1] == {}, 1.5, "failed_permanent messages are not retried by themselves")

    # With nothing left to deliver in the cache, a message the core refuses (422) goes the
    # direct way and the partner is told: ESME_RSUBMITFAIL.
    status, _ = submit(gw, "E")
    assert status == ESME_RSUBMITFAIL, f"{status:#x}"
    # A cached message the core refuses becomes failed_permanent at once, its retries not
    # used up (it may have had one failed attempt while the core was still down).
    core.stop()
    status, ids["F"] = submit(gw, "F")
    assert status == ESME_ROK
    core.start()
    f = wait_for(lambda: [e for e in cache_entries(gw, "partner", "failed_permanent") if e["id"] == ids["F"]], 20, "F refused")
    assert f[0]["retry_count"] < 2 and "422" in f[0]["last_error"], f

    # The operator: retry A alone, delete C, retry every failed one (B goes, F is refused
    # again), then delete the failed ones (F).
    r = run_cli(gw, "retry", "partner", ids["A"])
    assert r.returncode == 0, r
    wait_for(lambda: ids["A"] in core.snapshot()[1], 20, "A in the core after its manual retry")
    assert ids["B"] not in core.snapshot()[1]
    r = run_cli(gw, "delete", "partner", ids["C"])
    assert r.returncode == 0 and "deleted (1 entries)" in r.stdout, r
    r = run_cli(gw, "retry-failed", "partner")
    assert r.returncode == 0 and "2 failed_permanent entries will be retried now" in r.stdout, r
    wait_for(lambda: ids["B"] in core.snapshot()[1], 20, "B in the core")
    wait_for(lambda: [e["id"] for e in cache_entries(gw, "partner", "failed_permanent")] == [ids["F"]], 20, "F failed again")
    r = run_cli(gw, "delete-failed", "partner")
    assert r.returncode == 0 and "1 failed_permanent entries deleted" in r.stdout, r
    assert cache_summary(gw)["summary"]["total"] == 0
    assert sorted(m.get("text") for m in core.snapshot()[1].values()) == ["A", "B"]
    # An id the cache does not hold: a clear 404 through the CLI.
    r = run_cli(gw, "retry", "partner", ids["C"])
    assert r.returncode == 1 and "404" in r.stderr, r
    core.stop()


def test_overflow_evicts_the_oldest_and_counts_it(gateway_factory, monkeypatch):
    monkeypatch.setenv("MNESIA_STORAGE_TYPE", "ram_copies")
    core = StubCore(free_port())  # down
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False, cache_max_size=3,
                                 cache_retry_interval=60)
    gw.start()
    assert cache_summary(gw)["storage"] == "memory"
    for i in range(1, 6):
        assert submit(gw, f"M{i}")[0] == ESME_ROK

    line = bind_line(gw, "partner")
    assert (line["total"], line["max_size"], line["utilisation_percent"]) == (3, 3, 100.0), line
    assert [e["text"] for e in cache_entries(gw, "partner")] == ["M3", "M4", "M5"]
    assert metric(gw, "smpp_cache_overflow_total", bind_name="partner") == 2
    assert metric(gw, "smpp_cache_size", bind_name="partner", mode="server") == 3
    assert gw.log_tail(200).count("Cache overflow for partner: oldest message dropped") == 2
    summary = run_cli(gw, "summary")
    row = [ln.split() for ln in summary.stdout.splitlines() if ln.startswith("partner")]
    assert row == [["partner", "server", "3", "3", "0", "3", "100.0%"]], summary.stdout

    core.start()
    assert run_cli(gw, "retry-pending", "partner").returncode == 0
    wait_for(lambda: len(core.stored_texts()) == 3, 20, "the three kept messages in the core")
    assert core.stored_texts() == ["M3", "M4", "M5"], "the evicted ones are gone, the rest in order"
    core.stop()
