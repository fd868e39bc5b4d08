#!/usr/bin/env python3
"""faultproxy.py - a TCP proxy on loopback that injects one network fault.

    faultproxy.py --target HOST:PORT --fault FAULT [--after N] [--dir c2s|s2c]
                  [--rate BYTES_PER_S] [--delay SECS] [--faulty K]

Listens on 127.0.0.1 (an ephemeral port, printed as "listening on PORT" on
stdout), forwards every connection to --target, and applies FAULT to the
first K connections (--faulty, default 1); later ones pass untouched, so a
test can resume through the same proxy. FAULT is one of:

  pass       forward only
  flip       once N bytes went in direction --dir, flip one byte in the
             middle of the payload of the next TLS application-data record
             (type 23) in that direction; TLS framing is parsed, so the
             record still looks whole and only its MAC can tell
  fin        once N bytes went in --dir, close both sides (FIN)
  rst        the same with SO_LINGER 0 (RST)
  blackhole  once N bytes went in --dir, forward nothing more either way and
             stop reading; never close (a dead network, a closed lid)
  throttle   forward at most --rate bytes per second (default 1 MB/s) in
             each direction
  latency    deliver every chunk --delay seconds late (default 0.1)

Each line of stderr says what was done ("flip: ...", "cut: ..."). Python
standard library only; bounded: every connection ends when either side
does, and the proxy exits on SIGTERM.
"""
import argparse
import collections
import socket
import sys
import threading
import time

CHUNK = 16384


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class Link:
    """One proxied connection: client socket a, server socket b."""

    def __init__(self, args, a, b, faulty, num):
        self.args, self.a, self.b = args, a, b
        self.fault = args.fault if faulty else "pass"
        self.num = num
        self.moved = {"c2s": 0, "s2c": 0}
        self.dead = threading.Event()  # blackholed: nothing moves
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.flipped = False

    def close(self, rst=False):
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
            for s in (self.a, self.b):
                # A thread blocked in recv() holds the socket open: wake it
                # (SHUT_RD sends nothing), so the close really happens.
                try:
                    if rst:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
                        s.shutdown(socket.SHUT_RD)
                    else:
                        s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    s.close()
                except OSError:
                    pass


class Pump(threading.Thread):
    """Copies one direction; applies the fault that belongs to it."""

    def __init__(self, link, src, dst, direction):
        super().__init__(daemon=True)
        self.link, self.src, self.dst, self.dir = link, src, dst, direction
        self.hdr, self.left, self.rlen, self.rtype = bytearray(), 0, 0, 0
        self.target, self.armed = -1, False
        self.t0 = None
        self.sent = 0

    def triggered(self):
        a = self.link.args
        return self.dir == a.dir and self.link.moved[self.dir] >= a.after

    def flip(self, data):
        """Flips one byte in the middle of the payload of the first
        application-data record that begins once armed. Records are
        followed across chunks: hdr is the header being read, left the
        payload bytes of the current record still to come."""
        out = bytearray(data)
        pos = 0
        while pos < len(out):
            if self.left == 0:
                take = min(5 - len(self.hdr), len(out) - pos)
                self.hdr += out[pos:pos + take]
                pos += take
                if len(self.hdr) == 5:
                    self.rtype = self.hdr[0]
                    self.rlen = self.left = int.from_bytes(self.hdr[3:5],
                                                           "big")
                    self.target = (self.rlen // 2 if self.armed and
                                   self.rtype == 23 and
                                   not self.link.flipped else -1)
                    self.hdr = bytearray()
                continue
            take = min(self.left, len(out) - pos)
            at = self.rlen - self.left  # payload offset of out[pos]
            if at <= self.target < at + take:
                out[pos + self.target - at] ^= 0x01
                self.link.flipped = True
                log("flip: %s record of %d bytes, payload byte %d, after "
                    "%d bytes" % (self.dir, self.rlen, self.target,
                                  self.link.moved[self.dir]))
            self.left -= take
            pos += take
        return bytes(out)

    def send(self, data):
        try:
            self.dst.sendall(data)
        except OSError:
            # The receiver is gone (it reset a connection with data
            # unread): a network passes that reset on, so the sender,
            # perhaps blocked writing, learns it at once.
            self.link.close(rst=True)
            raise

    def run(self):
        link, a = self.link, self.link.args
        try:
            while not link.closed.is_set():
                if link.dead.is_set():
                    link.closed.wait(0.2)
                    continue
                try:
                    data = self.src.recv(CHUNK)
                except OSError:
                    data = b""
                if link.dead.is_set():
                    continue  # swallowed: the black hole began meanwhile
                if not data:
                    break
                fault = link.fault
                if fault in ("fin", "rst", "blackhole") and self.dir == a.dir:
                    room = a.after - link.moved[self.dir]
                    if room < len(data):
                        if room > 0:
                            self.send(data[:room])
                            link.moved[self.dir] += room
                        if fault == "blackhole":
                            log("blackhole: %s after %d bytes" %
                                (self.dir, link.moved[self.dir]))
                            link.dead.set()
                            continue
                        log("cut (%s): %s after %d bytes" %
                            (fault, self.dir, link.moved[self.dir]))
                        link.close(rst=(fault == "rst"))
                        return
                if fault == "flip" and self.dir == a.dir:
                    if self.triggered():
                        self.armed = True
                    data = self.flip(data)
                if fault == "throttle":
                    if self.t0 is None:
                        self.t0 = time.monotonic()
                    self.sent += len(data)
                    due = self.t0 + self.sent / a.rate
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                if fault == "latency":
                    time.sleep(max(0.0, a.delay))
                self.send(data)
                link.moved[self.dir] += len(data)
        except OSError:
            pass
        if link.dead.is_set():
            return
        # One side ended: pass the end on, as TCP would.
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class LatencyPump(Pump):
    """latency: chunks are read at once and delivered delay seconds later,
    in order, so the delay is added once, not once per chunk."""

    def run(self):
        link, a = self.link, self.link.args
        q = collections.deque()
        cv = threading.Condition()
        done = [False]

        def writer():
            while True:
                with cv:
                    while not q and not done[0]:
                        cv.wait(0.5)
                    if not q and done[0]:
                        break
                    due, data = q[0]
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                with cv:
                    q.popleft()
                try:
                    self.dst.sendall(data)
                except OSError:
                    return
            try:
                self.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        w = threading.Thread(target=writer, daemon=True)
        w.start()
        try:
            while not link.closed.is_set():
                data = self.src.recv(CHUNK)
                if not data:
                    break
                with cv:
                    q.append((time.monotonic() + a.delay, data))
                    cv.notify()
        except OSError:
            pass
        with cv:
            done[0] = True
            cv.notify()
        w.join(30)


def serve(args):
    host, port = args.target.rsplit(":", 1)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(16)
    print("listening on %d" % ls.getsockname()[1], flush=True)
    num = 0
    while True:
        a, _ = ls.accept()
        num += 1
        try:
            b = socket.create_connection((host, int(port)), timeout=5)
            b.settimeout(None)
        except OSError as e:
            log("connect to %s: %s" % (args.target, e))
            a.close()
            continue
        for s in (a, b):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = Link(args, a, b, num <= args.faulty, num)
        kind = LatencyPump if link.fault == "latency" else Pump
        kind(link, a, b, "c2s").start()
        kind(link, b, a, "s2c").start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fault", default="pass",
                   choices=["pass", "flip", "fin", "rst", "blackhole",
                            "throttle", "latency"])
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--dir", default="c2s", choices=["c2s", "s2c"])
    p.add_argument("--rate", type=float, default=1e6)
    p.add_argument("--delay", type=float, default=0.1)
    p.add_argument("--faulty", type=int, default=1)
    serve(p.parse_args())


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
