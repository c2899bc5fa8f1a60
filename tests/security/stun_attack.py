#!/usr/bin/env python3
"""stun_attack.py - hand-made STUN/TURN requests an attacker would send.

turn-probe is a well-behaved client; these checks need requests no client
sends: unauthenticated ones to measure amplification, a nonce carried to
another address, expired shared-secret credentials, many allocations from
one user, and password guesses in a row. Every loop is bounded in count and
time, and every socket talks to the one SERVER given (loopback in the tests).

  stun_attack.py amplification SERVER:PORT
  stun_attack.py flood SERVER:PORT FROM_IP COUNT LIMIT
  stun_attack.py nonce-replay SERVER:PORT USER:PASS FROM_IP OTHER_IP
  stun_attack.py expired SERVER:PORT SECRET USER
  stun_attack.py quota SERVER:PORT USER:PASS QUOTA OTHER_USER:PASS
  stun_attack.py guessing SERVER:PORT USER:PASS FROM_IP OTHER_IP LIMIT
  stun_attack.py connect SERVER:PORT USER:PASS PEER_IP:PORT...
  stun_attack.py connect-tcp SERVER:PORT USER:PASS PEER_IP:PORT...

Each prints what it measured and exits 0 when the server behaved, 1 when not.
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import time
import zlib

COOKIE = 0x2112A442
BINDING, ALLOCATE, REFRESH, SEND, CREATE_PERMISSION, CHANNEL_BIND, CONNECT = 1, 3, 4, 6, 8, 9, 10
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3
A_USERNAME, A_INTEGRITY, A_ERROR, A_PEER, A_REALM, A_NONCE = 0x6, 0x8, 0x9, 0x12, 0x14, 0x15
A_TRANSPORT, A_FINGERPRINT, A_SOFTWARE = 0x19, 0x8028, 0x8022
A_FAMILY, A_CONNECTION_ID = 0x17, 0x2a


def msg_type(method, cls):
    return ((method & 0xF) | ((method & 0x70) << 1) | ((method & 0xF80) << 2) |
            ((cls & 1) << 4) | ((cls & 2) << 7))


def attr(t, v):
    return struct.pack('!HH', t, len(v)) + v + b'\0' * (-len(v) % 4)


def build(method, cls, attrs=b'', key=None, fingerprint=False, tid=None):
    tid = tid or os.urandom(12)
    body = attrs
    if key is not None:
        head = struct.pack('!HHI', msg_type(method, cls), len(body) + 24, COOKIE) + tid
        body += attr(A_INTEGRITY, hmac.new(key, head + body, hashlib.sha1).digest())
    if fingerprint:
        head = struct.pack('!HHI', msg_type(method, cls), len(body) + 8, COOKIE) + tid
        crc = (zlib.crc32(head + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(A_FINGERPRINT, struct.pack('!I', crc))
    return struct.pack('!HHI', msg_type(method, cls), len(body), COOKIE) + tid + body


def parse(buf):
    """(class, {attr: value}, error code or 0) or None."""
    if len(buf) < 20:
        return None
    t, length, cookie = struct.unpack('!HHI', buf[:8])
    if cookie != COOKIE or 20 + length > len(buf):
        return None
    cls = ((t >> 4) & 1) | ((t >> 7) & 2)
    attrs, pos = {}, 20
    while pos + 4 <= 20 + length:
        at, al = struct.unpack('!HH', buf[pos:pos + 4])
        attrs.setdefault(at, buf[pos + 4:pos + 4 + al])
        pos += 4 + al + (-al % 4)
    code = 0
    if A_ERROR in attrs and len(attrs[A_ERROR]) >= 4:
        code = attrs[A_ERROR][2] * 100 + attrs[A_ERROR][3]
    return cls, attrs, code


def server_addr(s):
    host, port = s.rsplit(':', 1)
    return host.strip('[]'), int(port)


def sock(bind_ip='127.0.0.1', fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((bind_ip, 0))
    return s


def exchange(s, server, data, wait=0.5):
    """Send once, collect every datagram that arrives within `wait` s."""
    s.sendto(data, server)
    got, end = [], time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        s.settimeout(left)
        try:
            got.append(s.recv(4096))
        except socket.timeout:
            return got


def transact(s, server, data, tries=4):
    """A request with RFC 8489 retransmission (shortened): the parsed answer or None."""
    tid = data[8:20]
    rto = 0.25
    for _ in range(tries):
        for r in exchange(s, server, data, rto):
            if r[8:20] == tid:
                return parse(r)
        rto *= 2
    return None


def long_term_key(user, realm, password):
    return hashlib.md5(f'{user}:{realm}:{password}'.encode()).digest()


class Client:
    """Just enough of a TURN client: 401 -> realm/nonce -> signed retry."""

    def __init__(self, server, user, password, bind_ip='127.0.0.1'):
        self.server, self.user, self.password = server, user, password
        self.s = sock(bind_ip)
        self.realm = self.nonce = None

    def challenge(self):
        r = transact(self.s, self.server, build(ALLOCATE, REQUEST, attr(A_TRANSPORT, b'\x11\0\0\0')))
        if not r or r[2] != 401:
            raise SystemExit(f'FAIL: no 401 challenge: {r}')
        self.realm, self.nonce = r[1][A_REALM], r[1][A_NONCE]

    def signed(self, method, attrs=b'', password=None, nonce=None):
        key = long_term_key(self.user, self.realm.decode(), password or self.password)
        a = attrs + attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) + \
            attr(A_NONCE, nonce or self.nonce)
        return transact(self.s, self.server, build(method, REQUEST, a, key=key, fingerprint=True))

    def allocate(self, **kw):
        return self.signed(ALLOCATE, attr(A_TRANSPORT, b'\x11\0\0\0'), **kw)


def code_of(r):
    return 'no answer' if r is None else (r[2] if r[0] == ERROR else 'ok')


def cmd_amplification(server):
    """Largest response (all datagrams together) / request, per unauthenticated request."""
    transport = attr(A_TRANSPORT, b'\x11\0\0\0')
    peer = attr(A_PEER, struct.pack('!BBH', 0, 1, 5000 ^ 0x2112) + struct.pack('!I', 0x7F000001 ^ COOKIE))
    cases = [
        ('Binding (20 B, no attributes)', build(BINDING, REQUEST), True),
        ('Binding with FINGERPRINT', build(BINDING, REQUEST, fingerprint=True), True),
        ('Binding, RFC 3489 (no cookie)', struct.pack('!HH', 1, 0) + os.urandom(16), True),
        ('Allocate without credentials', build(ALLOCATE, REQUEST, transport), True),
        ('Allocate, no attributes', build(ALLOCATE, REQUEST), True),
        ('Allocate with USERNAME, no integrity', build(ALLOCATE, REQUEST, transport + attr(A_USERNAME, b'alice')), True),
        ('Allocate signed with a made-up nonce', build(ALLOCATE, REQUEST, transport + attr(A_USERNAME, b'alice') +
                                                       attr(A_REALM, b'lanturn') + attr(A_NONCE, b'x' * 24),
                                                       key=b'k' * 16), True),
        ('Refresh without credentials', build(REFRESH, REQUEST), True),
        ('CreatePermission without credentials', build(CREATE_PERMISSION, REQUEST, peer), True),
        ('ChannelBind without credentials', build(CHANNEL_BIND, REQUEST, attr(0xC, b'\x40\0\0\0') + peer), True),
        ('Connect (RFC 6062) without credentials', build(CONNECT, REQUEST, peer), True),
        ('unknown method 0x0ff', build(0xFF, REQUEST), True),
        ('unknown comprehension-required attribute', build(BINDING, REQUEST, attr(0x7777, b'abcd')), True),
        ('Send indication without allocation', build(SEND, INDICATION, peer + attr(0x13, b'hello')), True),
        ('ChannelData without allocation', b'\x40\x00\x00\x04ping', True),
        ('garbage, 1 byte', b'\x00', True),
        ('garbage, 20 zero bytes', b'\0' * 20, True),
        ('garbage, 64 random bytes', os.urandom(64), True),
        ('STUN header announcing 1000 bytes', struct.pack('!HHI', 1, 1000, COOKIE) + os.urandom(12), True),
        ('HTTP request', b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', True),
    ]
    s = sock(server[0])
    worst, worst_name, lines = 0.0, '', []
    for name, req, _ in cases:
        got = exchange(s, server, req, 0.3)
        out = sum(len(g) for g in got)
        f = out / len(req)
        lines.append(f'{name}: request {len(req)} B, response {out} B in {len(got)} datagram(s), factor {f:.2f}')
        if f > worst:
            worst, worst_name = f, name
    print('\n'.join(lines))
    print(f'largest factor {worst:.2f} ({worst_name})')
    return worst


def cmd_flood(server, from_ip, count, limit):
    """COUNT unauthenticated 20-byte Allocates (the worst single factor) from
    FROM_IP, as a forged-source flood would make turnd answer a victim: at
    most LIMIT answers arrive, so the bytes reflected stay below the bytes sent."""
    s = sock(from_ip)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sent = got = answers = 0
    for i in range(count):
        req = build(ALLOCATE, REQUEST)
        s.sendto(req, server)
        sent += len(req)
        if i % 100 == 99:
            time.sleep(0.01)  # paced: kernel buffers never drop what the test counts
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        s.settimeout(max(end - time.monotonic(), 0.001))
        try:
            got += len(s.recv(4096))
            answers += 1
        except socket.timeout:
            break
    print(f'flood from {from_ip}: {count} requests, {sent} B; {answers} answers, {got} B back; '
          f'factor {got / sent:.3f}')
    if answers > limit or answers < limit * 9 // 10:
        print(f'FAIL: expected about {limit} answers (the budget), got {answers}')
        sys.exit(1)
    other = sock(server[0])
    if not transact(other, server, build(BINDING, REQUEST)):
        print('FAIL: another address got no Binding answer during the flood')
        sys.exit(1)
    print('another address is still answered')


def cmd_nonce_replay(server, user, password, from_ip, other_ip):
    a = Client(server, user, password, from_ip)
    a.challenge()
    r = a.allocate()
    if code_of(r) != 'ok':
        raise SystemExit(f'FAIL: allocate with a fresh nonce from {from_ip}: {code_of(r)}')
    b = Client(server, user, password, other_ip)
    b.realm, b.nonce = a.realm, a.nonce
    r = b.allocate()
    print(f'nonce issued to {from_ip}, replayed from {other_ip} with the right password: {code_of(r)}')
    if code_of(r) != 438:
        raise SystemExit('FAIL: a nonce was accepted from another address')
    if A_NONCE not in r[1] or r[1][A_NONCE] == a.nonce:
        raise SystemExit('FAIL: the 438 did not carry a fresh nonce')
    b.nonce = r[1][A_NONCE]
    r = b.allocate()
    print(f'the same client with the nonce it was given: {code_of(r)}')
    if code_of(r) != 'ok':
        raise SystemExit('FAIL: a legitimate retry with the fresh nonce failed')
    r = b.allocate(nonce=b'obMatJos2AAACxyz-not-issued')
    print(f'a nonce the server never issued: {code_of(r)}')
    if code_of(r) not in (401, 438):
        raise SystemExit('FAIL: a made-up nonce was not refused')


def rest_password(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def cmd_expired(server, secret, user):
    now = int(time.time())
    results = {}
    for label, expiry in (('valid for an hour', now + 3600), ('expired a second ago', now - 1),
                          ('expired a day ago', now - 86400), ('expiry 0', 0)):
        u = f'{expiry}:{user}'
        c = Client(server, u, rest_password(secret, u))
        c.challenge()
        results[label] = code_of(c.allocate())
        print(f'shared-secret credential {label}: {results[label]}')
    u = f'{now + 3600}:{user}'
    c = Client(server, u, rest_password('not-the-secret', u))
    c.challenge()
    results['forged'] = code_of(c.allocate())
    print(f'credential signed with another secret: {results["forged"]}')
    if results['valid for an hour'] != 'ok':
        raise SystemExit('FAIL: a valid shared-secret credential was refused')
    if any(results[k] != 401 for k in results if k != 'valid for an hour'):
        raise SystemExit('FAIL: an expired or forged credential was not refused with 401')


def cmd_quota(server, user, password, quota, other_user, other_password):
    codes = []
    clients = []
    for i in range(quota + 3):
        c = Client(server, user, password)
        c.challenge()
        codes.append(code_of(c.allocate()))
        clients.append(c)
    print(f'{quota + 3} allocations by {user}: {codes}')
    if codes[:quota] != ['ok'] * quota or any(x != 486 for x in codes[quota:]):
        raise SystemExit(f'FAIL: expected {quota} allocations then 486')
    o = Client(server, other_user, other_password)
    o.challenge()
    r = code_of(o.allocate())
    print(f'another user allocates while {user} is at the quota: {r}')
    if r != 'ok':
        raise SystemExit('FAIL: one user at the quota kept another from allocating')


def cmd_guessing(server, user, password, from_ip, other_ip, limit):
    """Wrong passwords from one address until the server stops answering."""
    c = Client(server, user, password, from_ip)
    c.challenge()
    answered, silent, t0 = 0, 0, time.monotonic()
    codes = []
    for i in range(limit + 2):
        r = c.signed(ALLOCATE, attr(A_TRANSPORT, b'\x11\0\0\0'), password=f'guess-{i}')
        codes.append(code_of(r))
        if r is None:
            silent += 1
        else:
            answered += 1
            if r[2] == 438:
                c.nonce = r[1][A_NONCE]
    took = time.monotonic() - t0
    print(f'{limit + 2} wrong passwords from {from_ip}: {answered} answered (401), '
          f'{silent} dropped; {took:.1f} s')
    right = code_of(c.allocate())
    print(f'the right password from {from_ip} now: {right}')
    b = transact(c.s, server, build(BINDING, REQUEST))
    print(f'Binding from {from_ip} now: {code_of(b)}')
    o = Client(server, user, password, other_ip)
    o.challenge()
    other = code_of(o.allocate())
    print(f'the right password from {other_ip}: {other}')
    if answered != limit or any(x != 401 for x in codes[:limit]):
        raise SystemExit(f'FAIL: expected exactly {limit} answered guesses, got {codes}')
    if right != 'no answer':
        raise SystemExit('FAIL: the limited address still gets answers to TURN requests')
    if code_of(b) != 'ok' or other != 'ok':
        raise SystemExit('FAIL: the limit hit Binding or another address')
    # A guess costs the guesser the retransmission schedule once limited.
    print(f'guessing rate once limited: {limit} guesses per auth_fail_window per address')


def xor_peer(ip, port, tid=b'\0' * 12):
    """XOR-PEER-ADDRESS; an IPv6 one is XORed with the message's transaction id too."""
    fam = socket.AF_INET6 if ':' in ip else socket.AF_INET
    raw = socket.inet_pton(fam, ip)
    mask = struct.pack('!I', COOKIE) + (tid if fam == socket.AF_INET6 else b'')
    x = bytes(a ^ b for a, b in zip(raw, mask))
    return attr(A_PEER, struct.pack('!BBH', 0, 1 if fam == socket.AF_INET else 2, port ^ 0x2112) + x)


def cmd_connect(server, user, password, peers):
    """RFC 6062 Connect (a TCP connection to PEER) from an authenticated allocation."""
    c = Client(server, user, password, server[0])
    c.challenge()
    if code_of(c.allocate()) != 'ok':
        raise SystemExit('FAIL: allocate')
    bad = 0
    for p in peers:
        ip, port = p.rsplit(':', 1)
        r = code_of(c.signed(CONNECT, xor_peer(ip.strip('[]'), int(port))))
        print(f'Connect {p}: {r}')
        bad += r == 'ok' or r == 'no answer'
    if bad:
        raise SystemExit('FAIL: a Connect was accepted or not answered')


class TcpClient(Client):
    """The same client over a TCP connection (RFC 6062 needs one)."""

    def __init__(self, server, user, password):
        self.server, self.user, self.password = server, user, password
        fam = socket.AF_INET6 if ':' in server[0] else socket.AF_INET
        self.s = socket.create_connection(server, timeout=5)
        self.family = fam
        self.realm = self.nonce = None
        self.transport = b'\x06\0\0\0'

    def read_msg(self):
        head = b''
        while len(head) < 20:
            chunk = self.s.recv(20 - len(head))
            if not chunk:
                return None
            head += chunk
        body = b''
        length = struct.unpack('!H', head[2:4])[0]
        while len(body) < length:
            chunk = self.s.recv(length - len(body))
            if not chunk:
                return None
            body += chunk
        return head + body

    def transact(self, data, wait=40):
        """One request; the answer with its transaction id (Connect may take up to 30 s)."""
        self.s.settimeout(wait)
        self.s.sendall(data)
        try:
            while True:
                r = self.read_msg()
                if r is None:
                    return None
                if r[8:20] == data[8:20]:
                    return parse(r)
        except socket.timeout:
            return None

    def challenge(self):
        r = self.transact(build(ALLOCATE, REQUEST, attr(A_TRANSPORT, self.transport)))
        if not r or r[2] != 401:
            raise SystemExit(f'FAIL: no 401 challenge: {r}')
        self.realm, self.nonce = r[1][A_REALM], r[1][A_NONCE]

    def signed(self, method, attrs=b'', tid=None):
        key = long_term_key(self.user, self.realm.decode(), self.password)
        a = attrs + attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) + \
            attr(A_NONCE, self.nonce)
        return self.transact(build(method, REQUEST, a, key=key, fingerprint=True, tid=tid))


def cmd_connect_tcp(server, user, password, peers):
    """RFC 6062 Connect from a real TCP allocation: every peer must get 403."""
    c = TcpClient(server, user, password)
    c.challenge()
    family = attr(A_FAMILY, b'\x02\0\0\0') if c.family == socket.AF_INET6 else b''
    r = c.signed(ALLOCATE, attr(A_TRANSPORT, c.transport) + family)
    if code_of(r) != 'ok':
        raise SystemExit(f'FAIL: TCP allocate: {code_of(r)}')
    bad = 0
    for p in peers:
        ip, port = p.rsplit(':', 1)
        tid = os.urandom(12)
        r = code_of(c.signed(CONNECT, xor_peer(ip.strip('[]'), int(port), tid), tid=tid))
        print(f'Connect over TCP {p}: {r}')
        bad += r != 403
    if bad:
        raise SystemExit(f'FAIL: {bad} Connect(s) not refused with 403')


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, server = argv[1], server_addr(argv[2])
    if cmd == 'amplification':
        worst = cmd_amplification(server)
        limit = float(os.environ.get('AMPLIFICATION_MAX', '1'))
        if worst > limit:
            print(f'FAIL: amplification factor {worst:.2f} above {limit}')
            return 1
    elif cmd == 'flood':
        cmd_flood(server, argv[3], int(argv[4]), int(argv[5]))
    elif cmd == 'nonce-replay':
        u, p = argv[3].split(':', 1)
        cmd_nonce_replay(server, u, p, argv[4], argv[5])
    elif cmd == 'expired':
        cmd_expired(server, argv[3], argv[4])
    elif cmd == 'quota':
        u, p = argv[3].split(':', 1)
        ou, op = argv[5].split(':', 1)
        cmd_quota(server, u, p, int(argv[4]), ou, op)
    elif cmd == 'guessing':
        u, p = argv[3].split(':', 1)
        cmd_guessing(server, u, p, argv[4], argv[5], int(argv[6]))
    elif cmd == 'connect':
        u, p = argv[3].split(':', 1)
        cmd_connect(server, u, p, argv[4:])
    elif cmd == 'connect-tcp':
        u, p = argv[3].split(':', 1)
        cmd_connect_tcp(server, u, p, argv[4:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
