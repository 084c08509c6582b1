#!/usr/bin/env python3
"""Benchmark (not a test): submit_sm → submit_sm_resp throughput and latency of smppgw with the
retry cache off, on disk and in memory, in one run (figures: docs/performance.md, "Retry cache").

    tests/interop/.venv/bin/python benches/retry_cache.py [--bin target/release/smppgw]
        [--messages 40000] [--connections 6] [--window 100] [--runs 5]

Scenarios, each a fresh gateway against the same core — `tests/interop/cache_support.StubCore`
in a process of its own on loopback (in memory, no fsync, so that the cache's cost is not mixed
with the core's own fsyncs):

- cache off, core up            — the reference
- cache on disk, core up        — the direct path (the cache is not written)
- cache in memory, core up
- cache on disk, core down      — every message flushed to the cache (group commit)
- cache in memory, core down

The client is raw asyncio SMPP (no library in the way): `--connections` transmitter sessions on
distinct partner binds (each bind's tps_limit is at most 10 000/s, so 6 sessions), one process
each, each keeping `--window` submit_sm in flight. Latency is from writing a
submit_sm to reading its resp; msg/s counts the ESME_ROK answers. The first 10 % of each run is a warm-up and not counted. Each
scenario runs `--runs` times; the run of median throughput is reported, with the range.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "interop"))

import requests  # noqa: E402

from smpp_helpers import Gateway, free_port, wait_for  # noqa: E402

SUBMIT_SM, SUBMIT_SM_RESP, BIND_TX, ENQUIRE_LINK = 0x00000004, 0x80000004, 0x00000002, 0x00000015


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def pdu(command_id: int, seq: int, body: bytes) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, 0, seq) + body


def submit_body(i: int) -> bytes:
    sm = f"bench message {i:08}".encode()
    return (cstr("") + bytes([1, 1]) + cstr("33600000001") + bytes([1, 1]) + cstr("33700000001")
            + bytes([0, 0, 0]) + cstr("") + cstr("") + bytes([0, 0, 0, 0, len(sm)]) + sm)


async def read_pdu(reader: asyncio.StreamReader) -> tuple[int, int, int]:
    head = await reader.readexactly(16)
    length, cid, status, seq = struct.unpack(">IIII", head)
    if length > 16:
        await reader.readexactly(length - 16)
    return cid, status, seq


async def one_session(port: int, system_id: str, count: int, window: int, lat: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = cstr(system_id) + cstr("pw") + cstr("") + bytes([0x34, 0, 0]) + cstr("")
    writer.write(pdu(BIND_TX, 1, body))
    cid, status, _ = await read_pdu(reader)
    assert status == 0, f"bind of {system_id} refused: {status:#x}"
    sent_at: dict[int, float] = {}
    slots = asyncio.Semaphore(window)
    done = asyncio.Event()
    answered = 0

    async def reads() -> None:
        nonlocal answered
        while answered < count:
            cid, status, seq = await read_pdu(reader)
            if cid == ENQUIRE_LINK:
                writer.write(pdu(0x80000015, seq, b""))
                continue
            if cid != SUBMIT_SM_RESP:
                continue
            lat.append(time.perf_counter() - sent_at.pop(seq))
            statuses[status] = statuses.get(status, 0) + 1
            answered += 1
            slots.release()
        done.set()

    reader_task = asyncio.create_task(reads())
    for i in range(count):
        await slots.acquire()
        seq = i + 2
        sent_at[seq] = time.perf_counter()
        writer.write(pdu(SUBMIT_SM, seq, submit_body(i)))
        if i % 32 == 0:
            await writer.drain()
    await done.wait()
    await reader_task
    writer.close()


def _client(port: int, bind: str, warm: int, count: int, window: int, barrier, out) -> None:
    """One client process: warm up, wait for the others, then the measured run."""
    asyncio.run(one_session(port, bind, warm, window, [], {}))
    barrier.wait()
    lat: list[float] = []
    statuses: dict[int, int] = {}
    t0 = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
    asyncio.run(one_session(port, bind, count, window, lat, statuses))
    out.put((t0, time.perf_counter(), lat, statuses))


def load(port: int, binds: list[str], total: int, window: int) -> tuple[float, list[float], dict[int, int]]:
    """One client process per session (one Python process alone cannot keep the gateway busy)."""
    import multiprocessing as mp

    per = total // len(binds)
    warm = max(per // 10, 1)
    barrier, out = mp.Barrier(len(binds)), mp.Queue()
    procs = [mp.Process(target=_client, args=(port, b, warm, per, window, barrier, out)) for b in binds]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    lat = [x for r in results for x in r[2]]
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r[3].items():
            statuses[k] = statuses.get(k, 0) + v
    return max(r[1] for r in results) - min(r[0] for r in results), lat, statuses


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def gateway(workdir: Path, core_url: str, binds: list[str], cache: bool, storage: str) -> Gateway:
    gw = Gateway(workdir, free_port())
    c = gw.config
    c["api_base_url"] = core_url
    for key in ("embedded_core", "routes", "mo_routes"):
        c.pop(key, None)
    c["cache_storage_type"] = storage
    c["binds"] = []
    template = dict(c["server_binds"][0], tps_limit=10_000, cache_enabled=cache, cache_max_size=1_000_000,
                    cache_retry_interval=3600, window_size=1000)
    c["server_binds"] = [dict(template, name=b, system_id=b) for b in binds]
    return gw


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "smppgw"))
    ap.add_argument("--messages", type=int, default=40_000)
    ap.add_argument("--connections", type=int, default=6)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    os.environ["SMPPGW_BIN"] = args.bin
    binds = [f"bench{i}" for i in range(args.connections)]
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="smppgw-bench-") as tmp:
        tmp = Path(tmp)
        core_port = free_port()
        core = subprocess.Popen(
            [sys.executable, "-c", "import sys, threading; sys.path.insert(0, sys.argv[1]); import cache_support; "
             "c = cache_support.StubCore(int(sys.argv[2])); c.start(); threading.Event().wait()",
             str(ROOT / "tests" / "interop"), str(core_port)],
        )
        core_up = f"http://127.0.0.1:{core_port}"
        wait_for(lambda: requests.get(f"{core_up}/api/v1/system/health", timeout=1).ok, 20, "the stub core")
        core_down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        scenarios = [
            ("cache off, core up", core_up, False, "disk"),
            ("cache on disk, core up", core_up, True, "disk"),
            ("cache in memory, core up", core_up, True, "memory"),
            ("cache on disk, core down", core_down, True, "disk"),
            ("cache in memory, core down", core_down, True, "memory"),
        ]
        rows = []
        try:
            for n, (name, url, cache, storage) in enumerate(scenarios):
                runs = []
                for run in range(args.runs):
                    gw = gateway(tmp / f"gw{n}-{run}", url, binds, cache, storage)
                    gw.start()
                    try:
                        elapsed, lat, statuses = load(gw.smpp_port, binds, args.messages, args.window)
                    finally:
                        gw.stop()
                    tput = statuses.get(0, 0) / elapsed  # accepted messages only (not throttled ones)
                    print(f"{name} (run {run + 1}): {tput:,.0f} msg/s, p50 {percentile(lat, 50) * 1e3:.2f} ms, "
                          f"p99 {percentile(lat, 99) * 1e3:.2f} ms, statuses {statuses}", flush=True)
                    runs.append((tput, percentile(lat, 50), percentile(lat, 99), statuses))
                runs.sort(key=lambda r: r[0])
                median = runs[len(runs) // 2]
                rows.append((name, *median, runs[0][0], runs[-1][0]))
        finally:
            core.terminate()
            core.wait(10)

    ref = rows[0][1]
    print()
    print(f"smppgw {version}; {platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or platform.platform()}); "
          f"Python {platform.python_version()}; {args.messages} submit_sm per run over {args.connections} sessions, "
          f"window {args.window}; median of {args.runs} runs (range in brackets)")
    print()
    print("| scenario | msg/s (median) | runs' range | vs. cache off, core up | p50 latency | p99 latency | answers |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, tput, p50, p99, statuses, low, high in rows:
        answers = ", ".join(f"{'ESME_ROK' if s == 0 else hex(s)} {c}" for s, c in sorted(statuses.items()))
        print(f"| {name} | {tput:,.0f} | {low:,.0f}–{high:,.0f} | {tput / ref:.2f} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms | {answers} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
