"""kill -9 of the gateway while a partner (Python smpplib, a window of 10 submit_sm in flight)
submits with the retry cache on disk: after a restart every message answered ESME_ROK is in
the core exactly once, and none the gateway did not answer is claimed as sent.

The core is a second smppgw process serving only its embedded core (the reference core), so
that it survives the gateway's crash and can itself be killed; the gateway under test reaches it
by URL like any production core. Two runs: the gateway killed while the core takes the messages
directly, and while the core is down (killed too) and the cache holds them.
"""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from cache_support import bind_line, configure_cache_gateway, pipelined_submits
from smpp_helpers import Gateway, free_port, wait_for

ESME_ROK = 0
N = 400
WINDOW = 10


def kill9(gw: Gateway) -> None:
    """SIGKILL the process and reap it: no shutdown code runs."""
    assert gw.proc is not None and gw.proc.poll() is None, "the process is not running"
    gw.proc.send_signal(signal.SIGKILL)
    gw.proc.wait(10)
    gw.proc = None


@pytest.mark.parametrize("kill_while", ["core_up", "core_down"])
def test_kill_9_during_load_loses_no_acknowledged_message(gateway_factory, kill_while):
    core = gateway_factory(free_port())
    core.config.update(binds=[], server_binds=[], routes=[], mo_routes=[])
    core.start()
    core_url = f"http://127.0.0.1:{core.core_port}"

    gw = configure_cache_gateway(gateway_factory(free_port()), core_url, carrier_enabled=False, cache_retry_interval=1)
    gw.start()

    texts = [f"crash {kill_while} {i:04}" for i in range(N)]
    core_killed_at, gw_killed_at = (100, 250) if kill_while == "core_down" else (None, 150)
    done = {"core": False, "gw": False}

    def on_answer(ok: int) -> None:
        if core_killed_at is not None and ok >= core_killed_at and not done["core"]:
            kill9(core)
            done["core"] = True
        if ok >= gw_killed_at and not done["gw"]:
            kill9(gw)
            done["gw"] = True

    answers, unanswered = pipelined_submits(gw.smpp_port, "partner", texts, window=WINDOW, on_answer=on_answer)
    assert done["gw"], f"the gateway was not killed: {len(answers)} answers, e.g. {answers[:3]}"
    acked = {a.text: a.message_id for a in answers if a.status == ESME_ROK}
    refused = [a for a in answers if a.status != ESME_ROK]
    assert len(acked) >= gw_killed_at and not refused, f"{len(acked)} acknowledged, refused: {refused[:5]}"
    assert len(unanswered) <= WINDOW, unanswered

    # Restart both on their data directories; the gateway delivers what its cache kept.
    if done["core"]:
        core.start()
    gw.start()
    wait_for(lambda: bind_line(gw, "partner")["total"] == 0, 60, "the gateway's cache to empty after the restart")

    stored = [m for m in core.mt_messages(limit=1000) if m.get("bind_name") == "partner"]
    ids = Counter(m["id"] for m in stored)
    by_text = Counter(m.get("text") for m in stored)
    missing = [t for t, mid in acked.items() if ids[mid] != 1]
    assert not missing, f"{len(missing)} acknowledged messages not in the core exactly once, e.g. {missing[:3]}"
    doubled = [t for t, n in by_text.items() if n > 1]
    assert not doubled, f"stored twice (under two ids): {doubled[:3]}"
    # Nothing the partner was not told ESME_ROK for, except what was in flight at the kill
    # (cached or stored an instant before the gateway died: the partner will send it again,
    # which is SMPP's at-least-once).
    extra = [t for t in by_text if t not in acked]
    assert set(extra) <= set(unanswered), f"stored but never sent: {set(extra) - set(unanswered)}"
    assert len(stored) == len(acked) + len(extra)
