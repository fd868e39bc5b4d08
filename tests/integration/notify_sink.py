#!/usr/bin/env python3
"""notify_sink.py SOCKET OUT: stands in for systemd's notification socket.

Binds a Unix datagram socket at SOCKET and appends each datagram to OUT as
one line, its newlines written as '|'. Ends after 120 s or 1000 messages,
so a test that forgets it does not leave it behind for long.
"""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
deadline = time.monotonic() + 120
for _ in range(1000):
    left = deadline - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    with open(out, "a") as f:
        f.write(data.decode("utf-8", "replace").replace("\n", "|") + "\n")
s.close()
os.unlink(path)
