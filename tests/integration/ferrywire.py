#!/usr/bin/env python3
"""ferrywire.py - a deliberately small, independent client for ferry's wire
protocol, used by the integration tests to do what the ferry binary never
would: send garbage, stall, lie about a hash, send more than announced.

Frames are type u8 + length u32 (big-endian) + payload (src/lib/wire.c).
Every subcommand prints one line per event on stdout, e.g.

    handshake ok alpn=ferry/1
    HELLO version=1 software=ferry/0.1.0
    PUT lie.txt: ERR id=1 code=90 SHA-256 mismatch; not saved
    CLOSED after 0.01 s

and exits 0 unless it could not do what was asked (connect, handshake when
--expect-handshake, ...). Judging the outcome is the calling test's job.
"""

import argparse
import hashlib
import os
import socket
import ssl
import struct
import sys
import time

HELLO, PUT, DATA, END, ABORT = 0x01, 0x10, 0x11, 0x12, 0x13
GET, FILE, LIST, ENTRY, LISTEND = 0x20, 0x21, 0x30, 0x31, 0x32
OK, ERR = 0x40, 0x41
NAMES = {HELLO: "HELLO", PUT: "PUT", DATA: "DATA", END: "END",
         ABORT: "ABORT", GET: "GET", FILE: "FILE", LIST: "LIST",
         ENTRY: "ENTRY", LISTEND: "LISTEND", OK: "OK", ERR: "ERR"}
MAX_DATA = 256 * 1024

# The SYNC feature (PROTOCOL.md 5.10-5.16): feature bit 0 and its frames.
FEATURE_SYNC = 0x1
PROBE, PUTAT, MKDIR, LINK = 0x14, 0x15, 0x16, 0x17
GETAT, FILEAT, WALK, NODE, HAVE = 0x22, 0x23, 0x33, 0x34, 0x42
SYNC_NAMES = {PROBE: "PROBE", PUTAT: "PUTAT", MKDIR: "MKDIR", LINK: "LINK",
              GETAT: "GETAT", FILEAT: "FILEAT", WALK: "WALK", NODE: "NODE",
              HAVE: "HAVE"}


def say(*words):
    print(*words, flush=True)


class Closed(Exception):
    """The peer closed the connection (cleanly or not)."""


def frame(ftype, payload=b""):
    return struct.pack(">BI", ftype, len(payload)) + payload


def text(b):
    return struct.pack(">H", len(b)) + b


def hello_frame(version=1):
    return frame(HELLO, struct.pack(">HQ", version, 0) + text(b"ferrywire/1"))


def put_frame(fid, size, name, mode=0o644, mtime=0, flags=0):
    return frame(PUT, struct.pack(">IQIqI", fid, size, mode, mtime, flags)
                 + text(name))


def get_frame(fid, path, flags=0):
    return frame(GET, struct.pack(">II", fid, flags) + text(path))


def list_frame(fid, path):
    return frame(LIST, struct.pack(">I", fid) + text(path))


# --- encoders of the other frames (both directions), for tests that play
# the server (evil_server.py) or speak SYNC ---------------------------------

def hello_frame_features(version=1, features=0, software=b"ferrywire/1"):
    return frame(HELLO, struct.pack(">HQ", version, features) + text(software))


def data_frame(data):
    return frame(DATA, data)


def end_frame(digest):
    return frame(END, digest)


def abort_frame(code, message=b""):
    return frame(ABORT, struct.pack(">H", code) + text(message))


def err_frame(fid, code, message=b""):
    return frame(ERR, struct.pack(">IH", fid, code) + text(message))


def ok_frame(fid, size=0, digest=bytes(32)):
    return frame(OK, struct.pack(">IQ", fid, size) + digest)


def file_frame(fid, size, mode=0o644, mtime=0):
    return frame(FILE, struct.pack(">IQIq", fid, size, mode, mtime))


def fileat_frame(fid, size, offset=0, mode=0o644, mtime=0):
    return frame(FILEAT, struct.pack(">IQIqQ", fid, size, mode, mtime, offset))


def entry_frame(kind, name, size=0, mode=0o644, mtime=0):
    return frame(ENTRY, struct.pack(">BQIq", ord(kind), size, mode, mtime)
                 + text(name))


def listend_frame(fid, count):
    return frame(LISTEND, struct.pack(">II", fid, count))


def node_frame(kind, path, size=0, mode=0o644, mtime=0, target=b""):
    return frame(NODE, struct.pack(">BQIq", ord(kind), size, mode, mtime)
                 + text(path) + text(target))


def walk_frame(fid, path):
    return frame(WALK, struct.pack(">I", fid) + text(path))


def list_frame(fid, path):
    return frame(LIST, struct.pack(">I", fid) + text(path))


def getat_frame(fid, path, offset=0, prefix_sha256=None, flags=0):
    if prefix_sha256 is None:
        prefix_sha256 = hashlib.sha256(b"").digest()
    return frame(GETAT, struct.pack(">IIQ", fid, flags, offset)
                 + prefix_sha256 + text(path))


def probe_frame(fid, size, path):
    return frame(PROBE, struct.pack(">IQ", fid, size) + text(path))


def mkdir_frame(fid, path, mode=0o755, mtime=0, flags=0):
    return frame(MKDIR, struct.pack(">IIqI", fid, mode, mtime, flags)
                 + text(path))


def link_frame(fid, path, target, flags=0):
    return frame(LINK, struct.pack(">II", fid, flags) + text(path)
                 + text(target))


def putat_frame(fid, size, path, offset=0, prefix_sha256=None, mode=0o644,
                mtime=0, flags=0):
    if prefix_sha256 is None:
        prefix_sha256 = hashlib.sha256(b"").digest()
    return frame(PUTAT, struct.pack(">IQIqIQ", fid, size, mode, mtime, flags,
                                    offset) + prefix_sha256 + text(path))


def parse_text(p, off):
    """(bytes, next offset) of the text field at p[off:]; struct.error if
    it does not fit."""
    (n,) = struct.unpack_from(">H", p, off)
    if off + 2 + n > len(p):
        raise struct.error("text field past the end of the payload")
    return p[off + 2:off + 2 + n], off + 2 + n


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except (ssl.SSLError, ConnectionError) as e:
            raise Closed(str(e)) from e
        if not chunk:
            raise Closed("EOF" if not buf else "EOF inside a frame")
        buf += chunk
    return buf


def read_frame(sock):
    hdr = recv_exact(sock, 5)
    ftype, n = struct.unpack(">BI", hdr)
    if n > MAX_DATA + 64:
        raise Closed("absurd frame length %d" % n)
    return ftype, recv_exact(sock, n)


def send(sock, data):
    try:
        sock.sendall(data)
    except (ssl.SSLError, ConnectionError) as e:
        raise Closed(str(e)) from e


def describe(ftype, p):
    """One printable line for a frame from the server."""
    try:
        if ftype == ERR:
            fid, code, n = struct.unpack(">IHH", p[:8])
            msg = p[8:8 + n].decode("utf-8", "replace")
            return "ERR id=%d code=%d %s" % (fid, code, msg)
        if ftype == OK:
            fid, size = struct.unpack(">IQ", p[:12])
            return "OK id=%d size=%d sha256=%s" % (fid, size, p[12:44].hex())
        if ftype == HELLO:
            ver, _feat, n = struct.unpack(">HQH", p[:12])
            return "HELLO version=%d software=%s" % (
                ver, p[12:12 + n].decode("utf-8", "replace"))
        if ftype == FILE:
            fid, size, mode, _mt = struct.unpack(">IQIq", p[:24])
            return "FILE id=%d size=%d mode=%o" % (fid, size, mode)
        if ftype == END:
            return "END sha256=%s" % p[:32].hex()
        if ftype == ENTRY:
            n = struct.unpack(">H", p[21:23])[0]
            return "ENTRY %s" % p[23:23 + n].decode("utf-8", "replace")
        if ftype == LISTEND:
            fid, count = struct.unpack(">II", p[:8])
            return "LISTEND id=%d count=%d" % (fid, count)
    except struct.error:
        return "%s (malformed, %d bytes)" % (NAMES.get(ftype, "?"), len(p))
    return "%s (%d bytes)" % (NAMES.get(ftype, "0x%02x" % ftype), len(p))


def tls_connect(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(os.path.join(args.identity, "ca.pem"))
    if not args.no_cert:
        ctx.load_cert_chain(os.path.join(args.identity, "cert.pem"),
                            os.path.join(args.identity, "key.pem"))
    if args.alpn:
        ctx.set_alpn_protocols([args.alpn])
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    s = ctx.wrap_socket(raw, server_hostname=args.host)
    say("handshake ok alpn=%s" % s.selected_alpn_protocol())
    return s


def wait_close(sock, hold, t0):
    """Prints every frame (or raw byte count) the server sends, until it
    closes or hold seconds have passed."""
    deadline = time.monotonic() + hold
    is_tls = isinstance(sock, ssl.SSLSocket)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            say("OPEN after %.2f s" % (time.monotonic() - t0))
            return
        sock.settimeout(left)
        try:
            if is_tls:
                ftype, p = read_frame(sock)
                say(describe(ftype, p))
            else:
                data = sock.recv(65536)
                if not data:
                    raise Closed("EOF")
                say("received %d bytes" % len(data))
        except socket.timeout:
            continue
        except (Closed, ConnectionError, ssl.SSLError) as e:
            say("CLOSED after %.2f s (%s)" % (time.monotonic() - t0, e))
            return


def cmd_tcp(args):
    t0 = time.monotonic()
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    say("connected")
    try:
        if args.send:
            s.sendall(os.urandom(args.send))
            say("sent %d random bytes" % args.send)
    except ConnectionError as e:
        say("CLOSED after %.2f s (%s)" % (time.monotonic() - t0, e))
        return 0
    wait_close(s, args.hold, t0)
    return 0


def cmd_tls(args):
    t0 = time.monotonic()
    try:
        s = tls_connect(args)
        if args.hello:
            send(s, hello_frame())
            say(describe(*read_frame(s)))
        for h in args.send_hex:
            send(s, bytes.fromhex(h))
            say("sent %d bytes" % (len(h) // 2))
    except (Closed, ssl.SSLError, ConnectionError) as e:
        say("CLOSED after %.2f s (%s)" % (time.monotonic() - t0, e))
        return 0
    wait_close(s, args.hold, t0)
    return 0


def pattern(n, seed):
    """n bytes that differ per file, without reading /dev/urandom."""
    block = hashlib.sha256(seed).digest() * 2048
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


def cmd_session(args):
    """HELLO, then each --put / --get in order, one answer read for each."""
    t0 = time.monotonic()
    try:
        s = tls_connect(args)
        send(s, hello_frame())
        say(describe(*read_frame(s)))
        fid = 0
        for op in args.ops:
            fid += 1
            kind, spec = op
            if kind == "put":
                # NAME:ANNOUNCED:ACTUAL[:bad-hash][:force]
                parts = spec.split(":")
                name = parts[0].encode().decode("unicode_escape").encode(
                    "latin-1")
                announced, actual = int(parts[1]), int(parts[2])
                flags = 1 if "force" in parts[3:] else 0
                data = pattern(actual, name)
                digest = hashlib.sha256(data).digest()
                if "bad-hash" in parts[3:]:
                    digest = hashlib.sha256(data + b"!").digest()
                msg = put_frame(fid, announced, name, flags=flags)
                for off in range(0, len(data), MAX_DATA):
                    msg += frame(DATA, data[off:off + MAX_DATA])
                msg += frame(END, digest)
                label = "PUT %r" % name.decode("latin-1")
                send(s, msg)
                say("%s: %s" % (label, describe(*read_frame(s))))
            elif kind == "list":
                path = spec.encode()
                label = "LIST %r" % spec
                send(s, list_frame(fid, path))
                while True:
                    ftype, p = read_frame(s)
                    say("%s: %s" % (label, describe(ftype, p)))
                    if ftype != ENTRY:
                        break
            else:
                path = spec.encode().decode("unicode_escape").encode(
                    "latin-1")
                label = "GET %r" % path.decode("latin-1")
                send(s, get_frame(fid, path))
                ftype, p = read_frame(s)
                say("%s: %s" % (label, describe(ftype, p)))
                if ftype == FILE:
                    while True:
                        ftype, p = read_frame(s)
                        if ftype != DATA:
                            say("%s: %s" % (label, describe(ftype, p)))
                            break
    except (Closed, ssl.SSLError, ConnectionError) as e:
        say("CLOSED after %.2f s (%s)" % (time.monotonic() - t0, e))
        return 0
    wait_close(s, args.hold, t0)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, tls):
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("--timeout", type=float, default=10)
        p.add_argument("--hold", type=float, default=5,
                       help="seconds to wait for the server to close")
        if tls:
            p.add_argument("-i", "--identity", required=True)
            p.add_argument("--alpn", default="ferry/1")
            p.add_argument("--no-cert", action="store_true")

    p = sub.add_parser("tcp", help="plain TCP: optional garbage, then wait")
    common(p, False)
    p.add_argument("--send", type=int, default=0, metavar="N")
    p.set_defaults(run=cmd_tcp)

    p = sub.add_parser("tls", help="TLS handshake, optional HELLO and raw "
                       "bytes, then print what comes back")
    common(p, True)
    p.add_argument("--hello", action="store_true")
    p.add_argument("--send-hex", action="append", default=[])
    p.set_defaults(run=cmd_tls)

    p = sub.add_parser("session", help="HELLO, then --put/--get requests")
    common(p, True)
    p.add_argument("--put", dest="ops", action="append", default=[],
                   type=lambda v: ("put", v),
                   help="NAME:ANNOUNCED:ACTUAL[:bad-hash][:force]")
    p.add_argument("--get", dest="ops", action="append",
                   type=lambda v: ("get", v), help="PATH")
    p.add_argument("--list", dest="ops", action="append",
                   type=lambda v: ("list", v), help="PATH")
    p.set_defaults(run=cmd_session)

    args = ap.parse_args()
    try:
        return args.run(args)
    except (OSError, ssl.SSLError) as e:
        say("ERROR %s" % e)
        return 3


if __name__ == "__main__":
    sys.exit(main())
