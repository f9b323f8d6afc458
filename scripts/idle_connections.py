"""Open idle and half-sent connections to a running server and report how long it keeps them open.

What a slowloris client or a crowd of forgotten browser tabs does: ``--idle``
connections that send nothing, ``--half`` that send half a request head and
stop. Every second it prints how many are still open, until all are closed
or ``--seconds`` pass; with ``--pid`` it also prints the server's resident
memory. Loopback only.

    .venv/bin/python scripts/idle_connections.py http://127.0.0.1:8000 --idle 200 --half 20
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path
from urllib.parse import urlparse


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def is_open(sock: socket.socket) -> bool:
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--idle", type=int, default=200, help="connections that send nothing")
    parser.add_argument("--half", type=int, default=20, help="connections that send half a request head")
    parser.add_argument("--seconds", type=float, default=60.0, help="give up waiting after this long")
    parser.add_argument("--pid", type=int, help="the server's process id, for its memory")
    args = parser.parse_args()
    url = urlparse(args.url)
    if not (url.hostname or "").startswith(("127.", "localhost")):
        raise SystemExit("loopback addresses only")
    address = (url.hostname, url.port or 80)
    if args.pid:
        print(f"server RSS before: {rss_mb(args.pid):.0f} MB")
    sockets = []
    for i in range(args.idle + args.half):
        sock = socket.create_connection(address, timeout=10)
        if i >= args.idle:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        sock.setblocking(False)
        sockets.append(sock)
    t0 = time.monotonic()
    print(f"opened {args.idle} idle and {args.half} half-sent connections")
    while True:
        time.sleep(1.0)
        still = sum(is_open(s) for s in sockets)
        memory = f", server RSS {rss_mb(args.pid):.0f} MB" if args.pid else ""
        print(f"{time.monotonic() - t0:5.1f} s: {still} open{memory}")
        if still == 0 or time.monotonic() - t0 > args.seconds:
            break
    for sock in sockets:
        sock.close()


if __name__ == "__main__":
    main()
