#!/usr/bin/env python3
"""Holds COUNT idle TCP connections to HOST:PORT for SECONDS, sending nothing, as the attacker
of issue 21 (item 1) did: a connection the server closes is opened again at the next round
(every 0.5 s). Prints one line: "held_at_end reopened". Used by bench/web-mixed.sh.

    bench/idle-connections.py HOST PORT COUNT SECONDS
"""
import errno
import select
import socket
import sys
import time


def open_one(address, poller, sockets):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code not in (0, errno.EINPROGRESS):
        sock.close()
        return False
    sockets[sock.fileno()] = sock
    poller.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLERR | select.EPOLLHUP)
    return True


def main():
    host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    address = (host, port)
    poller = select.epoll()
    sockets = {}
    reopened = 0
    end = time.monotonic() + seconds
    next_round = 0.0
    while time.monotonic() < end:
        if time.monotonic() >= next_round:
            missing = count - len(sockets)
            opened = sum(open_one(address, poller, sockets) for _ in range(missing))
            if next_round:
                reopened += opened
            next_round = time.monotonic() + 0.5
        for fd, _ in poller.poll(0.1):
            # Readable or hung up: the server sends nothing unasked, so it closed the connection.
            poller.unregister(fd)
            sockets.pop(fd).close()
    print(len(sockets), reopened)


if __name__ == "__main__":
    main()
