#!/usr/bin/env python3
"""Round trip of single messages on the demo (README command (a)), seen from a partner ESME
written with Python smpplib (an SMPP implementation we did not write).

For each of N messages, one at a time: submit_sm (registered_delivery=1) -> submit_sm_resp
-> deliver_sm receipt whose receipted_message_id is the id we were given. Prints the median,
p90 and max of submit->resp and submit->receipt, and the receipt time minus the simulator's
configured receipt delay (receipt_delay_ms in config/demo.toml), which is what the gateway,
the core and both SMPP legs add.

    python3 benches/demo_roundtrip.py [--host 127.0.0.1] [--port 2775] [-n 20] [--sim-delay-ms 500]

Needs smpplib (tests/interop/.venv has it once ./scripts/test.sh has run).
"""
import argparse
import json
import statistics
import threading
import time

import smpplib.client
import smpplib.consts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2775)
    ap.add_argument("--system-id", default="demo")
    ap.add_argument("--password", default="demo")
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--sim-delay-ms", type=float, default=500.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    client = smpplib.client.Client(args.host, args.port, allow_unknown_opt_params=True)
    lock = threading.Condition()
    state = {"resp": None, "receipt": None, "want": None}

    def on_sent(pdu):
        with lock:
            state["resp"] = (time.perf_counter(), pdu.status, pdu.message_id)
            lock.notify_all()

    def on_received(pdu):
        rid = pdu.receipted_message_id
        rid = rid.decode() if isinstance(rid, bytes) else rid
        with lock:
            if state["want"] is not None and rid == state["want"]:
                state["receipt"] = time.perf_counter()
                lock.notify_all()

    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_received)
    client.connect()
    # smpplib leaves Nagle on: its deliver_sm_resp would hold back the next submit_sm until the
    # gateway's delayed ACK (~40 ms on Linux), which measures the client, not the gateway.
    import socket
    client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.bind_transceiver(system_id=args.system_id, password=args.password)
    done = threading.Event()

    def listen() -> None:
        try:
            client.listen()
        except Exception:  # the socket closed under it at the end: expected then
            if not done.is_set():
                raise

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    to_resp, to_receipt = [], []
    for i in range(args.n):
        with lock:
            state.update(resp=None, receipt=None, want=None)
        t0 = time.perf_counter()
        client.send_message(
            source_addr="33600000001", source_addr_ton=1, source_addr_npi=1,
            destination_addr="3361234%04d" % i, dest_addr_ton=1, dest_addr_npi=1,
            short_message=b"round trip %d" % i, registered_delivery=1,
        )
        with lock:
            if not lock.wait_for(lambda: state["resp"] is not None, args.timeout):
                raise SystemExit(f"message {i}: no submit_sm_resp within {args.timeout} s")
            t_resp, status, mid = state["resp"]
            if status != 0:
                raise SystemExit(f"message {i}: submit_sm_resp status {status:#x}")
            state["want"] = mid.decode() if isinstance(mid, bytes) else mid
            if not lock.wait_for(lambda: state["receipt"] is not None, args.timeout):
                raise SystemExit(f"message {i}: no receipt for {state['want']} within {args.timeout} s")
            t_rcpt = state["receipt"]
        to_resp.append((t_resp - t0) * 1000)
        to_receipt.append((t_rcpt - t0) * 1000)

    def summary(xs):
        xs = sorted(xs)
        return {"median_ms": round(statistics.median(xs), 2),
                "p90_ms": round(xs[int(0.9 * (len(xs) - 1))], 2),
                "max_ms": round(xs[-1], 2)}

    out = {
        "messages": args.n,
        "submit_to_resp": summary(to_resp),
        "submit_to_receipt": summary(to_receipt),
        "submit_to_receipt_minus_sim_delay": summary([x - args.sim_delay_ms for x in to_receipt]),
        "sim_receipt_delay_ms": args.sim_delay_ms,
    }
    print(json.dumps(out, indent=2))
    done.set()
    client.unbind()
    client.disconnect()


if __name__ == "__main__":
    main()
