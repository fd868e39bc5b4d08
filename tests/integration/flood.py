#!/usr/bin/env python3
"""flood.py - connections that never finish a handshake, for the starvation
tests (t_attack_idle_sockets.sh, t_authd_idle_sockets.sh).

  flood.py PORT SECS [--idle N --idle-from A] [--slow N --slow-from A]
           [--per-addr K] [--churn] [--ready FILE]

--idle N: N TCP connections that send nothing. --slow N: N that send a
ClientHello-looking record one byte every 0.5 s. Sources are 127.0.0.A,
127.0.0.A+1, ..., K connections per address. --churn: every connection the
server closes is opened again at once (from the same address). Runs SECS
seconds at most, then prints one line:
  opened O closed C reopened R
--ready FILE is written once the first round of connections is open.
Every loop is bounded by SECS and by the counts given.
"""
import argparse
import os
import select
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("secs", type=float)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--idle-from", type=int, default=2)
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--slow-from", type=int, default=100)
    ap.add_argument("--per-addr", type=int, default=10)
    ap.add_argument("--churn", action="store_true")
    ap.add_argument("--ready")
    a = ap.parse_args()
    # A TLS 1.x record header announcing 512 bytes of ClientHello, then a
    # ClientHello header: the server waits for the rest.
    hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]) + bytes(501)
    conns = []  # [sock, source, slow, bytes sent]
    stats = {"opened": 0, "closed": 0, "reopened": 0}
    deadline = time.time() + a.secs
    # Stopped early (kill): still say what happened.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    def open_one(src, slow):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((src, 0))
            s.connect_ex(("127.0.0.1", a.port))
        except OSError:
            s.close()
            return None
        stats["opened"] += 1
        return [s, src, slow, 0]

    def src(base, i):
        return "127.0.0.%d" % (base + i // a.per_addr)

    for i in range(a.idle):
        c = open_one(src(a.idle_from, i), False)
        if c:
            conns.append(c)
    for i in range(a.slow):
        c = open_one(src(a.slow_from, i), True)
        if c:
            conns.append(c)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    next_byte = time.time()
    try:
        run(a, conns, stats, deadline, next_byte, hello, open_one)
    except KeyboardInterrupt:
        pass
    print("opened %d closed %d reopened %d" % (stats["opened"], stats["closed"], stats["reopened"]))
    sys.stdout.flush()


def run(a, conns, stats, deadline, next_byte, hello, open_one):
    while time.time() < deadline and conns:
        socks = [c[0] for c in conns]
        r, _, _ = select.select(socks, [], [], 0.1)
        gone = set()
        for s in r:
            try:
                if s.recv(4096) == b"":
                    gone.add(s)
            except BlockingIOError:
                pass
            except OSError:
                gone.add(s)
        if time.time() >= next_byte:
            next_byte = time.time() + 0.5
            for c in conns:
                if c[2] and c[3] < len(hello) and c[0] not in gone:
                    try:
                        c[0].send(hello[c[3]:c[3] + 1])
                        c[3] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        gone.add(c[0])
        keep = []
        for c in conns:
            if c[0] not in gone:
                keep.append(c)
                continue
            stats["closed"] += 1
            c[0].close()
            if a.churn and time.time() < deadline:
                n = open_one(c[1], c[2])
                if n:
                    stats["reopened"] += 1
                    keep.append(n)
        conns[:] = keep
        if a.churn and len(r) == 0:
            time.sleep(0.01)
    for c in conns:
        c[0].close()


if __name__ == "__main__":
    main()
