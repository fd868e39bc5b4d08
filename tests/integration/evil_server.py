#!/usr/bin/env python3
"""evil_server.py - a malicious ferry server for the integration tests: it
speaks the real protocol (TLS 1.3, ALPN ferry/1, the client's certificate
required and verified against the organization CA, HELLO version 1 with the
SYNC feature) but answers a WALK (PROTOCOL.md 5.16) with a hostile tree,
chosen by --mode:

    honest      docs (d), docs/a.txt (f), docs/sub (d), docs/sub/b.txt (f):
                a correct answer, the control case
    dotdot      docs (d), docs/ok.txt (f), ../x (f)
    dotdotin    docs (d), docs/ok.txt (f), docs/../../x (f): below "docs"
                by prefix, but with ".." components
    absolute    docs (d), docs/ok.txt (f), /etc/x (f)
    unasked     docs (d), docs/ok.txt (f), other/x (f): outside the WALK path
    linkparent  docs (d), docs/ok.txt (f), docs/l (l -> /tmp), docs/l/x (f):
                a file "inside" a symbolic link
    dup         docs (d), docs/ok.txt (f), docs/x (f), docs/x (f) again
    orphan      docs (d), docs/ok.txt (f), docs/sub/x (f) with no docs/sub
    badkind     docs (d), docs/ok.txt (f), docs/x of kind 'z'
    badcount    docs (d), docs/ok.txt (f), docs/x (f), LISTEND count 7
    badlink     docs (d), docs/ok.txt (f), docs/up (l -> ../../../../tmp),
                docs/abs (l -> /tmp): a valid tree, but links a client
                must not create (the LINK target rule, 5.14)
    termesc     docs (d), docs/ok.txt (f), docs/x ESC ]0;PWNED BEL ESC [2J y
                (f): an invalid path whose bytes would retitle and clear
                the terminal if the client's error line showed them raw
    termname    docs (d), docs/ok.txt (f), docs/U+009B 31mred (f),
                docs/U+202E gpj.exe (f): a valid tree of names a terminal
                must not see raw (a one-byte CSI, a right-to-left override)

Or it answers a pull with a hostile stream (the tree is honest):

    resume_past     GETAT with offset N > 0: FILEAT with offset N + 4096
                    (a byte the client did not offer), then the rest
    resume_lie      GETAT with offset N > 0: FILEAT with offset N, 1 MiB
                    of other data, END with the SHA-256 of a whole file
                    that is not the client's prefix + that data
    fileat_for_get  GET: FILEAT instead of FILE (an answer of the wrong
                    kind)

Every file it lists, and any other path asked for, it serves correctly: GET
gets FILE + DATA + END, GETAT gets FILEAT (offset 0) + DATA + END with the
right SHA-256, so that the only bad thing is the tree. LIST gets an empty
listing (for `ferry ls`). It logs every request it reads on stderr, e.g.

    evil: listening on 127.0.0.1:40123
    evil: connection from alice
    evil: WALK id=1 'docs'
    evil: GETAT id=2 'docs/ok.txt' offset=0
    evil: connection ended (EOF)

It binds 127.0.0.1:0 (a free port) unless --port is given, serves one
connection at a time, and runs until killed.
"""

import argparse
import hashlib
import os
import socket
import ssl
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ferrywire as fw  # noqa: E402

MODES = ("honest", "dotdot", "dotdotin", "absolute", "unasked", "linkparent",
         "dup", "orphan", "badkind", "badcount", "badlink", "resume_past",
         "resume_lie", "fileat_for_get", "v1", "reserved", "termesc",
         "termname")


def log(*words):
    print("evil:", *words, file=sys.stderr, flush=True)


def content(path):
    """What the server serves for PATH: a few bytes that name it."""
    return b"evil server content of " + path + b"\n"


def tree(mode, root):
    """[(kind, path, target)] for a WALK of ROOT, and the LISTEND count
    (None: the number of nodes)."""
    r = root
    ok = [("d", r, b""), ("f", r + b"/ok.txt", b"")]
    if mode in ("honest", "resume_past", "resume_lie", "fileat_for_get"):
        return [("d", r, b""), ("f", r + b"/a.txt", b""),
                ("d", r + b"/sub", b""), ("f", r + b"/sub/b.txt", b"")], None
    if mode == "dotdot":
        return ok + [("f", b"../x", b"")], None
    if mode == "dotdotin":
        return ok + [("f", r + b"/../../x", b"")], None
    if mode == "absolute":
        return ok + [("f", b"/etc/x", b"")], None
    if mode == "unasked":
        return ok + [("f", b"other/x", b"")], None
    if mode == "linkparent":
        return ok + [("l", r + b"/l", b"/tmp"), ("f", r + b"/l/x", b"")], None
    if mode == "dup":
        return ok + [("f", r + b"/x", b""), ("f", r + b"/x", b"")], None
    if mode == "orphan":
        return ok + [("f", r + b"/sub/x", b"")], None
    if mode == "badkind":
        return ok + [("z", r + b"/x", b"")], None
    if mode == "badcount":
        return ok + [("f", r + b"/x", b"")], 7
    if mode == "reserved":
        return ok + [("f", r + b"/.ferry-resume-0123456789abcdef.part",
                      b"")], None
    if mode == "termesc":
        return ok + [("f", r + b"/x\x1b]0;PWNED\x07\x1b[2Jy", b"")], None
    if mode == "termname":
        return ok + [("f", r + b"/\xc2\x9b31mred", b""),
                     ("f", r + b"/\xe2\x80\xaegpj.exe", b"")], None
    if mode == "badlink":
        return ok + [("l", r + b"/up", b"../../../../tmp"),
                     ("l", r + b"/abs", b"/tmp")], None
    raise ValueError(mode)


def send_stream(conn, data):
    out = b""
    for off in range(0, len(data), fw.MAX_DATA):
        out += fw.data_frame(data[off:off + fw.MAX_DATA])
    out += fw.end_frame(hashlib.sha256(data).digest())
    conn.sendall(out)


def serve_one(conn, mode):
    ftype, p = fw.read_frame(conn)
    if ftype != fw.HELLO:
        log("first frame is 0x%02x, not HELLO" % ftype)
        conn.sendall(fw.err_frame(0, 60, b"expected HELLO"))
        return
    ver, feat = struct.unpack(">HQ", p[:10])
    log("HELLO version=%d features=%d" % (ver, feat))
    # "v1": a server from before the SYNC feature (features 0), which only
    # knows PUT, GET and LIST: a SYNC frame from the client is fatal.
    sync = 0 if mode == "v1" else fw.FEATURE_SYNC
    conn.sendall(fw.hello_frame_features(1, sync,
                                         b"evil_server/" + mode.encode()))
    while True:
        ftype, p = fw.read_frame(conn)
        if ftype == fw.PUT and mode == "v1":
            fid, size = struct.unpack_from(">IQ", p)
            name, _ = fw.parse_text(p, 28)
            log("PUT id=%d %r size=%d" % (fid, name.decode("latin-1"), size))
            h, got = hashlib.sha256(), 0
            while True:
                t, d = fw.read_frame(conn)
                if t == fw.DATA:
                    h.update(d)
                    got += len(d)
                    continue
                break
            if t == fw.END and d == h.digest() and got == size:
                conn.sendall(fw.ok_frame(fid, size, h.digest()))
            else:
                conn.sendall(fw.err_frame(fid, 90, b"not what was announced"))
        elif ftype == fw.WALK and sync:
            (fid,) = struct.unpack_from(">I", p)
            root, _ = fw.parse_text(p, 4)
            log("WALK id=%d %r" % (fid, root.decode("latin-1")))
            nodes, count = tree(mode, root if root else b"docs")
            out = b""
            for kind, path, target in nodes:
                size = len(content(path)) if kind == "f" else 0
                mode_bits = 0o755 if kind == "d" else 0o644
                out += fw.node_frame(kind, path, size=size, mode=mode_bits,
                                     target=target)
            out += fw.listend_frame(fid, len(nodes) if count is None
                                    else count)
            conn.sendall(out)
        elif ftype == fw.GET:
            fid, _flags = struct.unpack_from(">II", p)
            path, _ = fw.parse_text(p, 8)
            log("GET id=%d %r" % (fid, path.decode("latin-1")))
            data = content(path)
            if mode == "fileat_for_get":
                conn.sendall(fw.fileat_frame(fid, len(data), offset=0))
            else:
                conn.sendall(fw.file_frame(fid, len(data)))
            send_stream(conn, data)
        elif ftype == fw.GETAT and sync:
            fid, flags, offset = struct.unpack_from(">IIQ", p)
            path, _ = fw.parse_text(p, 48)
            log("GETAT id=%d %r offset=%d flags=%d"
                % (fid, path.decode("latin-1"), offset, flags))
            data = content(path)
            if flags & 1:
                conn.sendall(fw.err_frame(fid, 91, b"not the same"))
                continue
            if offset > 0 and mode in ("resume_past", "resume_lie"):
                junk = hashlib.sha256(path).digest() * 32768  # 1 MiB
                size = offset + len(junk)
                start = offset + 4096 if mode == "resume_past" else offset
                log("lies: FILEAT offset=%d size=%d" % (start, size))
                conn.sendall(fw.fileat_frame(fid, size, offset=start))
                rest = junk[start - offset:]
                out = b""
                for off in range(0, len(rest), fw.MAX_DATA):
                    out += fw.data_frame(rest[off:off + fw.MAX_DATA])
                whole = hashlib.sha256(bytes(offset) + junk).digest()
                conn.sendall(out + fw.end_frame(whole))
                continue
            conn.sendall(fw.fileat_frame(fid, len(data), offset=0))
            send_stream(conn, data)
        elif ftype == fw.LIST:
            (fid,) = struct.unpack_from(">I", p)
            path, _ = fw.parse_text(p, 4)
            log("LIST id=%d %r" % (fid, path.decode("latin-1")))
            conn.sendall(fw.listend_frame(fid, 0))
        else:
            name = fw.NAMES.get(ftype) or fw.SYNC_NAMES.get(ftype) or \
                "0x%02x" % ftype
            log("unexpected %s (%d bytes); closing" % (name, len(p)))
            conn.sendall(fw.err_frame(0, 60, b"evil server: unexpected frame"))
            return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-i", "--identity", required=True,
                    help="the server's member dir (key.pem, cert.pem, ca.pem)")
    ap.add_argument("--mode", required=True, choices=MODES)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.path.join(args.identity, "cert.pem"),
                        os.path.join(args.identity, "key.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(args.identity, "ca.pem"))
    ctx.set_alpn_protocols(["ferry/1"])

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.port))
    ls.listen(8)
    log("mode %s" % args.mode)
    log("listening on 127.0.0.1:%d" % ls.getsockname()[1])
    while True:
        raw, _addr = ls.accept()
        raw.settimeout(30)
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log("TLS handshake failed: %s" % e)
            raw.close()
            continue
        try:
            if conn.selected_alpn_protocol() != "ferry/1":
                log("no ALPN ferry/1 (%r); closing"
                    % conn.selected_alpn_protocol())
                continue
            cert = conn.getpeercert()
            cn = [v for rdn in cert.get("subject", ()) for k, v in rdn
                  if k == "commonName"]
            log("connection from %s" % (cn[0] if cn else "?"))
            serve_one(conn, args.mode)
        except fw.Closed as e:
            log("connection ended (%s)" % e)
        except (ssl.SSLError, OSError, struct.error) as e:
            log("connection ended (%s: %s)" % (type(e).__name__, e))
        finally:
            try:
                conn.close()
            except OSError:
                pass


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
