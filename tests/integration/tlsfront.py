#!/usr/bin/env python3
"""tlsfront.py --cert PEM --key PEM --target HOST:PORT - TLS in front of a
plain TCP service on loopback: with an HTTP proxy as the target, an
https:// proxy for tests.

Listens on 127.0.0.1 (an ephemeral port, printed as "listening on PORT" on
stdout), completes a TLS handshake with each client using --cert/--key,
and relays the decrypted bytes to --target and back. One line on stderr
per connection ("accepted", "handshake failed: ..."). Python standard
library only; every connection ends when either side does, idle ones
after 30 s, and the process exits on SIGTERM.
"""
import argparse
import socket
import ssl
import sys
import threading

IDLE = 30


def relay(src, dst):
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(conn, ctx, target):
    conn.settimeout(IDLE)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        sys.stderr.write("handshake failed: %s\n" % e)
        conn.close()
        return
    sys.stderr.write("accepted\n")
    try:
        up = socket.create_connection(target, timeout=IDLE)
    except OSError as e:
        sys.stderr.write("target: %s\n" % e)
        tls.close()
        return
    t = threading.Thread(target=relay, args=(up, tls), daemon=True)
    t.start()
    relay(tls, up)
    t.join(IDLE)
    tls.close()
    up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--target", required=True)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print("listening on %d" % ls.getsockname()[1], flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, ctx, (host, int(port))),
                         daemon=True).start()


if __name__ == "__main__":
    main()
