#!/usr/bin/env python3
"""burst_relay.py - a burst of datagrams keeps its boundaries both ways.

  burst_relay.py SERVER:PORT USER:PASS TURND_PID

turnd sends consecutive datagrams of one size from one socket to one address
as one UDP GSO message (turnd/src/io/sendq.c). This stops turnd, queues a
burst of same-size datagrams (and a shorter last one) at it, lets it go,
and proves each relayed datagram arrives alone, whole and in order:
  1. client -> peer: Send indications; the peer receives every payload;
  2. peer -> client: datagrams to the relayed address; the client receives
     a Data indication with each payload, from the peer's address.
Exits 0 when both held, 1 otherwise.
"""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'security'))
from stun_attack import (A_PEER, CREATE_PERMISSION, INDICATION, SEND,  # noqa: E402
                         Client, attr, build, code_of, parse, server_addr, xor_peer)
from workers_relay import A_DATA, A_RELAYED, DATA_INDICATION, xor_addr  # noqa: E402

COUNT = 40


def fail(msg):
    print('FAIL:', msg)
    sys.exit(1)


def payloads(tag, size):
    """COUNT distinct payloads of size bytes, the last one shorter."""
    out = [bytes([tag, i]) + os.urandom(size - 2) for i in range(COUNT - 1)]
    return out + [bytes([tag, COUNT - 1]) + os.urandom(size // 2)]


def held(pid, send):
    """Runs send() while turnd is stopped, so the whole burst waits in its socket."""
    os.kill(pid, signal.SIGSTOP)
    try:
        send()
        time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGCONT)


def receive(s, count, wait=3.0):
    got, end = [], time.monotonic() + wait
    while len(got) < count and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            got.append(s.recvfrom(65536))
        except socket.timeout:
            break
    return got


def check(direction, sent, got):
    print(f'{direction}: sent {len(sent)}, received {len(got)}, sizes {sorted({len(g) for g in got})}')
    if got != sent:
        bad = next((i for i, (a, b) in enumerate(zip(sent, got)) if a != b), min(len(sent), len(got)))
        fail(f'{direction}: datagram {bad} differs (sent {len(sent)}, received {len(got)})')


def main(argv):
    server = server_addr(argv[1])
    user, password = argv[2].split(':', 1)
    pid = int(argv[3])
    c = Client(server, user, password)
    c.challenge()
    r = c.allocate()
    if code_of(r) != 'ok':
        fail(f'Allocate: {code_of(r)}')
    relay = xor_addr(r[1][A_RELAYED])
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(('127.0.0.1', 0))
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    r = c.signed(CREATE_PERMISSION, xor_peer('127.0.0.1', 0))
    if code_of(r) != 'ok':
        fail(f'CreatePermission: {code_of(r)}')
    dest = peer.getsockname()

    for size in (100, 1200):
        # 1. client -> peer
        out = payloads(1, size)
        held(pid, lambda: [c.s.sendto(build(SEND, INDICATION, xor_peer(dest[0], dest[1]) +
                                            attr(A_DATA, p)), server) for p in out])
        got = receive(peer, COUNT)
        if any(addr != relay for _, addr in got):
            fail(f'client -> peer: a datagram came from elsewhere than {relay}')
        check(f'client -> peer, {size} bytes', out, [g for g, _ in got])

        # 2. peer -> client
        back = payloads(2, size)
        held(pid, lambda: [peer.sendto(p, relay) for p in back])
        data = []
        for buf, _ in receive(c.s, COUNT):
            p = parse(buf)
            t = struct.unpack('!H', buf[:2])[0]
            method = (t & 0xF) | ((t >> 1) & 0x70) | ((t >> 2) & 0xF80)
            if not p or p[0] != INDICATION or method != DATA_INDICATION:
                fail(f'peer -> client: not a Data indication: {buf[:20].hex()}')
            if xor_addr(p[1][A_PEER]) != dest:
                fail(f'peer -> client: from {xor_addr(p[1][A_PEER])}, not {dest}')
            data.append(p[1][A_DATA])
        check(f'peer -> client, {size} bytes', back, data)
    print('PASS')


if __name__ == '__main__':
    main(sys.argv)
