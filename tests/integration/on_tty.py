#!/usr/bin/env python3
"""on_tty.py [--ctty] [--answer TEXT] [--stderr-too] ERRFILE CMD... - runs CMD with
standard output on a fresh pseudo-terminal (stdin /dev/null, stderr into
ERRFILE), copies what the terminal received to our stdout with the tty's
\\r\\n turned back into \\n, and exits with CMD's status: for tests of what
ferry shows a terminal. --ctty makes the pseudo-terminal CMD's controlling
terminal (/dev/tty), --answer types TEXT on it, and --stderr-too puts
standard error on the terminal too (ERRFILE stays empty)."""
import fcntl
import os
import pty
import subprocess
import sys
import termios

args = sys.argv[1:]
ctty, answer, both = False, None, False
while args and args[0].startswith("--"):
    if args[0] == "--ctty":
        ctty, args = True, args[1:]
    elif args[0] == "--stderr-too":
        both, args = True, args[1:]
    elif args[0] == "--answer":
        answer, args = args[1].encode(), args[2:]
    else:
        sys.exit("on_tty.py: unknown option " + args[0])

master, slave = pty.openpty()


def take_tty():
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)


with open(args[0], "wb") as err:
    p = subprocess.Popen(args[1:], stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave if both else err, pass_fds=(slave,),
                         preexec_fn=take_tty if ctty else None)
os.close(slave)
if answer is not None:
    os.write(master, answer)
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
