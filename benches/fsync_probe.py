#!/usr/bin/env python3
"""The disk's durability cost, the reference of every durable acknowledgement: N times, write
4 KiB at the end of a file in DIR and fsync it; print JSON with p50/p99/p99.9/max in µs.

    fsync_probe.py DIR [N]

A submit_sm_resp of smppgw is sent only after the embedded core (or the retry cache on disk)
has fsynced the message, so no latency under load can be lower than this.
"""
import json
import os
import sys
import time


def main() -> None:
    directory, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500
    path = os.path.join(directory, "fsync-probe.bin")
    block = os.urandom(4096)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    took = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            took.append((time.perf_counter() - t0) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    took.sort()
    q = lambda p: took[min(len(took) - 1, int(p * len(took)))]
    print(json.dumps({"samples": n, "p50_us": q(0.50), "p99_us": q(0.99), "p999_us": q(0.999), "max_us": took[-1]}))


if __name__ == "__main__":
    main()
