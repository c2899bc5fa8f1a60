#!/usr/bin/env python3
"""tcp_peer.py - an RFC 6062 client and TCP peers against the real turnd.

  tcp_peer.py SERVER:PORT USER:PASS PEER_IP [BYTES]

Both directions of a TCP allocation, with a TCP echo peer on PEER_IP:
  1. Connect to the peer, ConnectionBind on a new connection, 8 MiB each way
     through the splice (checked by SHA-256), then closing the client's data
     connection closes the peer's, and a new Connect to the same peer works;
  2. Connect to a port nobody listens on: 447;
  3. CreatePermission, the peer connects to the relayed address, the client
     gets ConnectionAttempt, binds, data both ways (32 MiB each way to a
     reader that pauses 1.5 s: backpressure, nothing lost), and the peer's
     close closes the client's data connection;
  4. a peer connection nobody binds is closed by the server after 30 s.
With BYTES only step 1 runs, with BYTES each way, and prints how long it took
(for a server with a bandwidth limit).
Prints what it measured; exits 0 when all held, 1 otherwise.
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'security'))
from stun_attack import (A_CONNECTION_ID, A_PEER, ALLOCATE, COOKIE, CREATE_PERMISSION,  # noqa: E402
                         REQUEST, TcpClient, attr, build, code_of, long_term_key, server_addr,
                         xor_peer)

CONNECTION_BIND, CONNECTION_ATTEMPT = 0x00b, 0x00c
A_RELAYED = 0x16
BULK = 8 << 20


def fail(msg):
    print('FAIL:', msg)
    sys.exit(1)


def xor_addr(v, tid):
    fam, port = v[1], struct.unpack('!H', v[2:4])[0] ^ 0x2112
    mask = struct.pack('!I', COOKIE) + (tid if fam == 2 else b'')
    raw = bytes(a ^ b for a, b in zip(v[4:], mask))
    return socket.inet_ntop(socket.AF_INET6 if fam == 2 else socket.AF_INET, raw), port


def method_of(msg):
    t = struct.unpack('!H', msg[:2])[0]
    return (t & 0xF) | ((t >> 1) & 0x70) | ((t >> 2) & 0xF80)


def with_peer(ctl, method, ip, port):
    """A signed request naming a peer; an IPv6 XOR-PEER-ADDRESS needs the tid."""
    tid = os.urandom(12)
    return ctl.signed(method, xor_peer(ip, port, tid), tid=tid)


def bind_data_connection(ctl, cid):
    """A new connection to the server, ConnectionBind(cid): the raw socket."""
    d = TcpClient(ctl.server, ctl.user, ctl.password)
    d.realm, d.nonce = ctl.realm, ctl.nonce  # the nonce is the client address's
    r = d.signed(CONNECTION_BIND, attr(A_CONNECTION_ID, struct.pack('!I', cid)))
    if code_of(r) != 'ok':
        fail(f'ConnectionBind: {code_of(r)}')
    return d.s


def pump(sock_, data, out):
    """Send data while reading len(data) bytes back; out gets what came back."""
    got = []

    def reader():
        n = 0
        while n < len(data):
            b = sock_.recv(65536)
            if not b:
                break
            got.append(b)
            n += len(b)

    t = threading.Thread(target=reader)
    t.start()
    sock_.sendall(data)
    t.join(60)
    out.append(b''.join(got))


def closed_within(s, seconds):
    """True when the peer closes s (EOF or reset) within seconds."""
    s.settimeout(seconds)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


class EchoPeer:
    """A TCP peer on ip: echoes every connection; remembers when each ended."""

    def __init__(self, ip):
        fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        self.s.bind((ip, 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.ended = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.s.accept()
            threading.Thread(target=self.echo, args=(c,), daemon=True).start()

    def echo(self, c):
        while True:
            try:
                b = c.recv(65536)
            except OSError:
                b = b''
            if not b:
                break
            c.sendall(b)
        self.ended.append(time.monotonic())
        c.close()


def main(argv):
    server = server_addr(argv[1])
    user, password = argv[2].split(':', 1)
    peer_ip = argv[3]
    echo = EchoPeer(peer_ip)

    ctl = TcpClient(server, user, password)
    ctl.challenge()
    tid = os.urandom(12)
    family = attr(0x17, b'\x02\0\0\0') if ':' in peer_ip else b''  # an IPv6 TCP relay
    r = ctl.signed(ALLOCATE, attr(0x19, ctl.transport) + family, tid=tid)
    if code_of(r) != 'ok':
        fail(f'TCP Allocate: {code_of(r)}')
    relay = xor_addr(r[1][A_RELAYED], tid)
    print(f'relay {relay[0]}:{relay[1]}')

    # 1. Connect, bind, bulk both ways, close.
    r = with_peer(ctl, 10, peer_ip, echo.port)
    if code_of(r) != 'ok' or A_CONNECTION_ID not in r[1]:
        fail(f'Connect to the echo peer: {code_of(r)}')
    cid = struct.unpack('!I', r[1][A_CONNECTION_ID])[0]
    data = bind_data_connection(ctl, cid)
    bulk = int(argv[4]) if len(argv) > 4 else BULK
    payload = os.urandom(bulk)
    back = []
    start = time.monotonic()
    pump(data, payload, back)
    secs = time.monotonic() - start
    if hashlib.sha256(back[0]).digest() != hashlib.sha256(payload).digest():
        fail(f'bulk echo: sent {len(payload)} bytes, got {len(back[0])} back, or different bytes')
    print(f'active: {bulk} bytes each way through the splice in {secs:.2f} s '
          f'({2 * bulk / secs / 1e6:.3f} MB/s)')
    if len(argv) > 4:
        print(f'seconds {secs:.2f}')
        return 0
    ended = len(echo.ended)
    data.close()
    for _ in range(40):
        if len(echo.ended) > ended:
            break
        time.sleep(0.05)
    else:
        fail("closing the client's data connection did not close the peer's")
    print("active: the client's close closed the peer connection")
    r = with_peer(ctl, 10, peer_ip, echo.port)  # the same 4-tuple, just closed
    if code_of(r) != 'ok':
        fail(f'Connect again to the same peer after its connection closed: {code_of(r)}')
    print('active: Connect again to the same peer: ok')

    # 2. Nobody listens there: 447.
    probe = socket.socket(socket.AF_INET6 if ':' in peer_ip else socket.AF_INET)
    probe.bind((peer_ip, 0))
    dead_port = probe.getsockname()[1]
    probe.close()
    r = with_peer(ctl, 10, peer_ip, dead_port)
    if code_of(r) != 447:
        fail(f'Connect to a closed port: {code_of(r)}, expected 447')
    print('Connect to a closed port: 447')

    # 3. The peer connects in.
    if code_of(with_peer(ctl, CREATE_PERMISSION, peer_ip, 0)) != 'ok':
        fail('CreatePermission')
    p = socket.create_connection(relay, timeout=5, source_address=(peer_ip, 0))
    ctl.s.settimeout(5)
    msg = ctl.read_msg()
    if not msg or method_of(msg) != CONNECTION_ATTEMPT:
        fail('no ConnectionAttempt indication')
    attrs = {}
    pos = 20
    while pos + 4 <= len(msg):
        t, n = struct.unpack('!HH', msg[pos:pos + 4])
        attrs.setdefault(t, msg[pos + 4:pos + 4 + n])
        pos += 4 + n + (-n % 4)
    seen = xor_addr(attrs[A_PEER], msg[8:20])
    if seen != p.getsockname()[:2]:
        fail(f'ConnectionAttempt names {seen}, the peer is {p.getsockname()[:2]}')
    cid = struct.unpack('!I', attrs[A_CONNECTION_ID])[0]
    p.sendall(b'sent before the bind')  # RFC 6062 §5.3: held until ConnectionBind
    data = bind_data_connection(ctl, cid)
    data.settimeout(5)
    early = b''
    while len(early) < 20:
        early += data.recv(64)
    if early != b'sent before the bind':
        fail(f'peer bytes from before the bind: {early!r}')
    data.sendall(b'hello peer')
    p.settimeout(5)
    if p.recv(64) != b'hello peer':
        fail('client to peer after ConnectionAttempt')
    # Backpressure: a side that does not read for a while gets every byte
    # afterwards; the server's bounded queues hold the rest back instead of
    # dropping or closing.
    for name, src, dst in (('peer to client', p, data), ('client to peer', data, p)):
        payload = os.urandom(4 * BULK)  # more than the kernel buffers on the way hold
        t = threading.Thread(target=src.sendall, args=(payload,))
        t.start()
        time.sleep(1.5)
        got, dst_total = [], 0
        dst.settimeout(10)
        while dst_total < len(payload):
            b = dst.recv(1 << 16)
            if not b:
                break
            got.append(b)
            dst_total += len(b)
        t.join(10)
        if hashlib.sha256(b''.join(got)).digest() != hashlib.sha256(payload).digest():
            fail(f'backpressure {name}: {dst_total} of {len(payload)} bytes, or different bytes')
        print(f'backpressure {name}: {len(payload) >> 20} MiB, reader paused 1.5 s, all arrived')
    p.close()
    if not closed_within(data, 5):
        fail("the peer's close did not close the client's data connection")
    print('passive: ConnectionAttempt, bytes held until the bind, both ways, close follows')

    # 4. Nobody binds: closed after 30 s (RFC 6062 §5.3).
    p = socket.create_connection(relay, timeout=5, source_address=(peer_ip, 0))
    start = time.monotonic()
    if not closed_within(p, 40):
        fail('an unbound peer connection outlived 40 s')
    waited = time.monotonic() - start
    if waited < 25:
        fail(f'an unbound peer connection was closed after {waited:.1f} s, before 30 s')
    print(f'unbound peer connection closed after {waited:.1f} s')
    ctl.s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
