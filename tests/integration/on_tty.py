#!/usr/bin/env python3
"""on_tty.py ERRFILE CMD... - runs CMD with standard output on a fresh
pseudo-terminal (stdin /dev/null, stderr into ERRFILE), copies what the
terminal received to our stdout with the tty's \\r\\n turned back into \\n,
and exits with CMD's status: for tests of what ferry shows a terminal."""
import os
import pty
import subprocess
import sys

master, slave = pty.openpty()
with open(sys.argv[1], "wb") as err:
    p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=err)
os.close(slave)
out = b""
while True:
    try:
        d = os.read(master, 65536)
    except OSError:  # EIO: the last writer closed the terminal
        break
    if not d:
        break
    out += d
rc = p.wait()
sys.stdout.buffer.write(out.replace(b"\r\n", b"\n"))
sys.exit(rc)
