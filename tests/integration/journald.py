#!/usr/bin/env python3
"""journald.py - a stand-in for journald, for t_journal.sh.

Runs CMD with its stderr connected to a stream socket (as systemd does for
StandardError=journal) and, unless --no-env, JOURNAL_STREAM set to that
socket's "DEV:INO". Optionally also receives, on unix datagram sockets
bound at the given paths:
  --native PATH  journald's native protocol (sd_journal_sendv): each entry
                 becomes one JSON object per line in DIR/native.jsonl;
  --syslog PATH  syslog(3) datagrams, one per line in DIR/syslog.log.
The stream's lines go to DIR/stream.log as they arrive. It ends when CMD
ends (after reading what is left) or on SIGTERM/SIGINT, which it passes
on to CMD. Every wait is bounded.
"""
import argparse
import array
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time


def parse_native(data):
    """KEY=VALUE\\n, or KEY\\n<le64 length><bytes>\\n (values with newlines)."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("entry without a final newline")
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            key, value = line[:eq], line[eq + 1:]
            i = nl + 1
        else:
            key = line
            if nl + 9 > len(data):
                raise ValueError("short binary field")
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            start = nl + 9
            if start + n + 1 > len(data) or data[start + n:start + n + 1] != b"\n":
                raise ValueError("bad binary field length")
            value = data[start:start + n]
            i = start + n + 1
        k = key.decode("ascii")
        v = value.decode("utf-8", "replace")
        # A repeated field is kept as a list, as journalctl -o json does.
        if k in fields:
            prev = fields[k]
            fields[k] = (prev if isinstance(prev, list) else [prev]) + [v]
        else:
            fields[k] = v
    return fields


def recv_native(sock):
    """One datagram; a big entry comes as a memfd passed with SCM_RIGHTS."""
    fds = array.array("i")
    data, anc, _, _ = sock.recvmsg(1 << 20, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    for fd in fds:
        with os.fdopen(fd, "rb") as f:
            f.seek(0)
            data = f.read(1 << 24)
    return data


def bind_dgram(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s.bind(path)
    os.chmod(path, 0o666)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--native")
    ap.add_argument("--syslog")
    ap.add_argument("--no-env", action="store_true")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    outs = {}
    if a.native:
        s = bind_dgram(a.native)
        sel.register(s, selectors.EVENT_READ, "native")
        outs["native"] = open(os.path.join(a.dir, "native.jsonl"), "a")
    if a.syslog:
        s = bind_dgram(a.syslog)
        sel.register(s, selectors.EVENT_READ, "syslog")
        outs["syslog"] = open(os.path.join(a.dir, "syslog.log"), "a")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    st = os.fstat(theirs.fileno())
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    if not a.no_env:
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    outs["stream"] = open(os.path.join(a.dir, "stream.log"), "ab")
    sel.register(ours, selectors.EVENT_READ, "stream")

    child = subprocess.Popen(a.cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=theirs, env=env)
    theirs.close()

    def stop(signum, frame):
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    deadline = None  # after the child ends: what is left, for 2 s at most
    stream_open = True
    while True:
        if child.poll() is not None and deadline is None:
            deadline = time.monotonic() + 2
        if deadline is not None and (time.monotonic() > deadline or
                                     (not stream_open and not a.native and not a.syslog)):
            break
        for key, _ in sel.select(timeout=0.2):
            what = key.data
            if what == "stream":
                data = ours.recv(65536)
                if not data:
                    sel.unregister(ours)
                    stream_open = False
                    continue
                outs["stream"].write(data)
                outs["stream"].flush()
            elif what == "native":
                entry = parse_native(recv_native(key.fileobj))
                outs["native"].write(json.dumps(entry) + "\n")
                outs["native"].flush()
            else:
                data = key.fileobj.recv(1 << 16)
                outs["syslog"].write(data.decode("utf-8", "replace").rstrip("\n") + "\n")
                outs["syslog"].flush()
        if deadline is not None and not stream_open and not sel.get_map():
            break
    return child.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
