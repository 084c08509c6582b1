"""The retry cache's storage failing, at start or during the run, with the core down: a clear
error (log and admin API), binds answer new messages with a temporary status instead of a false
ESME_ROK, nothing acknowledged is lost, and the cache comes back by itself once the disk does.

"Disk full" is made with RLIMIT_FSIZE on the gateway process (writes past the limit fail with
EFBIG, as they fail with ENOSPC on a full disk; SIGXFSZ is ignored so the process lives on),
which needs no root and no special file system. The limit is raised from outside (prlimit) to
free the "disk".
"""

from __future__ import annotations

import resource
import signal

from cache_support import StubCore, cache_summary, configure_cache_gateway, pipelined_submits
from smpp_helpers import Gateway, free_port, wait_for

ESME_ROK = 0
ESME_RSYSERR = 0x08


def submit_one(gw: Gateway, text: str) -> int:
    answers, unanswered = pipelined_submits(gw.smpp_port, "partner", [text], window=1)
    assert not unanswered and len(answers) == 1, f"no answer to {text!r}"
    return answers[0].status


def test_unwritable_cache_directory_at_start(gateway_factory, tmp_path):
    core = StubCore(free_port())  # down for now
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file where the cache's parent directory should be")
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False,
                                 cache_dir=str(blocker / "cache"))
    gw.start()

    # A clear error, naming the directory and the cause, in the log and the admin API.
    s = cache_summary(gw)
    assert s["available"] is False, s
    assert str(blocker) in s["error"] and "Not a directory" in s["error"], s["error"]
    wait_for(lambda: "retry cache unavailable" in gw.log_tail(200), 10, "the error in the log")
    # The core down and no cache: refused with a temporary status, not acknowledged.
    assert submit_one(gw, "refused at start") == ESME_RSYSERR
    # The core up: accepted directly, the cache is not needed.
    core.start()
    assert submit_one(gw, "direct at start") == ESME_ROK
    wait_for(lambda: "direct at start" in core.stored_texts(), 10, "the direct message in the core")

    # The directory becomes usable: the cache opens by itself, and works.
    blocker.unlink()
    wait_for(lambda: cache_summary(gw)["available"], 10, "the cache to open once its directory can be made")
    core.stop()
    assert submit_one(gw, "cached later") == ESME_ROK
    assert cache_summary(gw)["summary"]["total"] == 1
    core.start()
    wait_for(lambda: "cached later" in core.stored_texts(), 20, "the cached message in the core")
    assert sorted(core.stored_texts()) == ["cached later", "direct at start"], "the refused one never arrives"
    core.stop()


def _limit_file_size(limit: int):
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return preexec


def _set_file_size_limit(gw: Gateway, limit: int) -> None:
    assert gw.proc is not None
    resource.prlimit(gw.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_disk_full_at_start_and_during_the_run(gateway_factory):
    core = StubCore(free_port())  # down
    gw = configure_cache_gateway(gateway_factory(free_port()), core.url, carrier_enabled=False)
    gw.preexec_fn = _limit_file_size(0)  # nothing can be written: full at start
    gw.start()

    s = wait_for(lambda: (lambda s: s if not s["available"] else None)(cache_summary(gw)), 10, "the cache's error")
    assert "File too large" in s["error"] and "cache" in s["error"], s["error"]
    assert submit_one(gw, "full at start") == ESME_RSYSERR

    # Some space: the cache opens; then it fills up during the run.
    _set_file_size_limit(gw, 1 << 20)
    wait_for(lambda: cache_summary(gw)["available"], 10, "the cache to open once the disk has room")
    acked: list[str] = []
    refused: list[str] = []
    batch = 0
    while len(refused) < 5:
        assert batch < 100, "the cache never filled the 1 MiB limit"
        texts = [f"fill {batch:03}-{i:03}" for i in range(100)]
        batch += 1
        # One at a time (window 1): once the disk refuses, every later message is refused.
        answers, unanswered = pipelined_submits(gw.smpp_port, "partner", texts, window=1)
        assert not unanswered and len(answers) == len(texts)
        for a in answers:
            if a.status == ESME_ROK:
                assert not refused, f"{a.text!r} acknowledged after the cache refused messages, the disk still full"
                acked.append(a.text)
            else:
                assert a.status == ESME_RSYSERR, f"{a.text!r}: status {a.status:#x} is not a temporary error"
                refused.append(a.text)
    s = cache_summary(gw)
    assert s["available"] is False and "File too large" in s["error"], s
    assert s["summary"]["total"] == len(acked), "every acknowledged message is still held"
    assert len(acked) > 50, f"only {len(acked)} messages fitted"

    # Room again: the worker reopens the store and writes the cache back; new messages are
    # accepted again.
    _set_file_size_limit(gw, resource.RLIM_INFINITY)
    wait_for(lambda: cache_summary(gw)["available"], 20, "the cache to repair itself")
    # The summary may turn available a moment before the repair's log line is written.
    wait_for(lambda: f"{len(acked)} entries written back" in gw.log_tail(600), 10, "the log of the store reopened and rewritten")
    assert submit_one(gw, "after repair") == ESME_ROK
    acked.append("after repair")

    # The core comes back: every acknowledged message arrives once, no refused one does.
    core.start()
    wait_for(lambda: len(core.stored_texts()) >= len(acked), 60, f"{len(acked)} messages in the core")
    wait_for(lambda: cache_summary(gw)["summary"]["total"] == 0, 20, "the cache to empty")
    stored = core.stored_texts()
    assert sorted(stored) == sorted(acked), (
        f"missing {sorted(set(acked) - set(stored))[:5]}, unexpected {sorted(set(stored) - set(acked))[:5]}"
    )
    core.stop()
