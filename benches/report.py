#!/usr/bin/env python3
"""Figures of benches/run.sh: medians of the runs and the table of docs/performance.md.

  report.py median RESULTS PREFIX KEY       the median of KEY over RESULTS/PREFIX.<run>.json
  report.py table RESULTS DOC --conditions TEXT
      writes the table between "<!-- scenarios:begin -->" and "<!-- scenarios:end -->" in DOC
      (DOC may be /dev/null: the table is only built, which checks the results are readable)
"""
import glob
import json
import os
import re
import statistics
import sys


def runs(res, prefix):
    files = [f for f in glob.glob(os.path.join(res, prefix + ".*.json")) if re.fullmatch(re.escape(prefix) + r"\.\d+\.json", os.path.basename(f))]
    out = []
    for f in sorted(files):
        try:
            out.append(json.load(open(f)))
        except (OSError, ValueError):
            print(f"report.py: {f} is not a result (the run did not finish): left out", file=sys.stderr)
    return out


def median_run(res, prefix):
    """The run whose throughput is the median (the lower middle for an even count), and all runs."""
    rs = runs(res, prefix)
    if not rs:
        return None, []
    good = [r for r in rs if r.get("passed")] or rs
    ordered = sorted(good, key=lambda r: r["throughput_per_s"])
    return ordered[(len(ordered) - 1) // 2], rs


def fmt_rate(v):
    return f"{v:,.0f}"


def fmt_us(v):
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} µs"


def table(res, conditions):
    rows = []
    out = []
    s0, s0runs = median_run(res, "S0")
    s1, s1runs = median_run(res, "S1")
    p34, p34runs = median_run(res, "smpp34")

    def rate_range(rs):
        if len(rs) < 2:
            return "–"
        v = [r["throughput_per_s"] for r in rs if r.get("passed")]
        if len(v) < 2:
            return "–"
        return f"{fmt_rate(min(v))}–{fmt_rate(max(v))}"

    def ratio(a, b):
        if not a or not b or not b["throughput_per_s"]:
            return None
        return a["throughput_per_s"] / b["throughput_per_s"]

    def row(name, r, rs, ratio_text, target, met):
        if r is None:
            rows.append(f"| {name} | not run | | | | | | {target} | – |")
            return
        lat = r["latency"]
        cpu = f"{r['gateway_cpu_pct']:.0f} %" if "gateway_cpu_pct" in r else "–"
        failed = sum(1 for x in rs if not x.get("passed"))
        note = f" ({failed} of {len(rs)} runs FAILED: timed out, messages unanswered)" if failed else ""
        rows.append(
            f"| {name} | {fmt_rate(r['throughput_per_s'])} | {rate_range(rs)} | {fmt_us(lat['p50_us'])} | {fmt_us(lat['p99_us'])} | "
            f"{fmt_us(lat['p999_us'])} | {cpu} | {ratio_text} | {target} | {met}{note} |"
        )

    def yes(ok):
        return "**yes**" if ok else "no"

    row("S0 ESME → sink (loopback ceiling)", s0, s0runs, "1 (reference)", "–", "–")
    r10 = ratio(s1, s0)
    row("S1 ESME → smppgw → embedded core", s1, s1runs, f"S1/S0 = {r10:.3f}" if r10 else "–", "≥ 0.07 of S0", yes(r10 is not None and r10 >= 0.07))
    s1h, s1hruns = median_run(res, "S1http")
    rh = ratio(s1h, s1)
    row("S1 with the bridge over HTTP (`in_process = false`)", s1h, s1hruns, f"S1http/S1 = {rh:.2f}" if rh else "–", "(what in-process saves)", "–")
    r134 = ratio(s1, p34)
    row("S1 reference: smpp34 ack-only server", p34, p34runs, f"S1/smpp34 = {r134:.2f}" if r134 else "–", "S1 ≥ smpp34", yes(r134 is not None and r134 >= 1.0))
    half, halfruns = median_run(res, "S1half")
    fs_path = os.path.join(res, "fsync.json")
    fs = json.load(open(fs_path)) if os.path.exists(fs_path) else None
    if fs:
        rows.append(
            f"| reference: one 4 KiB write + fsync on the data directory's disk ({fs['samples']} samples) | – | – | {fmt_us(fs['p50_us'])} | "
            f"{fmt_us(fs['p99_us'])} | {fmt_us(fs['p999_us'])} | – | the floor of a durable ack | – | – |"
        )
    if half:
        p99 = half["latency"]["p99_us"]
        vs = f"p99 / fsync p99 = {p99 / fs['p99_us']:.1f}" if fs and fs["p99_us"] else "–"
        row(f"S1 at half its max rate ({fmt_rate(half['tps_cap'] or 0)}/s)", half, halfruns, vs, "p99 < 2 ms", yes(p99 < 2000 and half["passed"]))
    else:
        row("S1 at half its max rate", None, [], "", "p99 < 2 ms", "")
    for mode in ("disk", "memory"):
        for core in ("embedded", "down"):
            r, rs = median_run(res, f"S2.{mode}.{core}")
            rr = ratio(r, s1)
            label = f"S2 retry cache {mode}, core {'up' if core == 'embedded' else 'down (every message cached)'}"
            target = "≥ 0.5 of S1" if mode == "disk" and core == "embedded" else "–"
            met = yes(rr is not None and rr >= 0.5) if target != "–" else "–"
            row(label, r, rs, f"S2/S1 = {rr:.2f}" if rr else "–", target, met)
    s3, s3runs = median_run(res, "S3")
    r30 = ratio(s3, s0)
    if s3:
        all_receipts = s3["ids"]["receipts_matched"] == s3["ok"] == s3["messages"]
        row("S3 full path, receipts back", s3, s3runs, f"S3/S0 = {r30:.4f}" if r30 else "–", "≥ 0.02 of S0, every receipt", yes(r30 is not None and r30 >= 0.02 and all_receipts))
    else:
        row("S3 full path, receipts back", None, [], "", "≥ 0.02 of S0, every receipt", "")
    s5, s5runs = median_run(res, "S5")
    row("S5 1,000 binds × 10 TPS", s5, s5runs, "–", "(latency and CPU)", "–")
    out.append(f"Conditions: {conditions}.")
    out.append("")
    out.append("| scenario | msg/s (median) | runs' range | p50 | p99 | p99.9 | gateway CPU (of one core) | ratio (same run) | target | met |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    out.extend(rows)
    s4p = os.path.join(res, "S4.json")
    if os.path.exists(s4p):
        s4 = json.load(open(s4p))
        out.append("")
        out.append("| S4 idle binds | binds | VmRSS before → after | RSS per bind | idle CPU | target | met |")
        out.append("| --- | ---: | ---: | ---: | ---: | --- | --- |")
        ok = s4["rss_per_bind_kib"] <= 32 and s4["idle_cpu_pct"] < 1
        out.append(
            f"| S4 | {s4['binds']:,} | {s4['rss_before_kib'] / 1024:.1f} → {s4['rss_after_kib'] / 1024:.1f} MiB | {s4['rss_per_bind_kib']:.1f} KiB | "
            f"{s4['idle_cpu_pct']:.2f} % over {s4['idle_seconds']:.0f} s | ≤ 32 KiB per bind, < 1 % CPU | {yes(ok)} |"
        )
    return "\n".join(out) + "\n"


def main():
    if sys.argv[1] == "median":
        rs = runs(sys.argv[2], sys.argv[3])
        if not rs:
            print(0)
            return
        good = [r for r in rs if r.get("passed")] or rs
        print(statistics.median(r[sys.argv[4]] for r in good))
    elif sys.argv[1] == "table":
        res, doc = sys.argv[2], sys.argv[3]
        conditions = sys.argv[sys.argv.index("--conditions") + 1]
        text = table(res, conditions)
        print(text)
        if doc != "/dev/null":
            body = open(doc).read()
            begin, end = "<!-- scenarios:begin -->", "<!-- scenarios:end -->"
            if begin not in body:
                body += f"\n## Scenarios\n\n{begin}\n{end}\n"
            pre, rest = body.split(begin, 1)
            _, post = rest.split(end, 1)
            open(doc, "w").write(pre + begin + "\n" + text + end + post)
    else:
        sys.exit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
