#!/usr/bin/env python3
"""workers_relay.py - relay to relay between two workers of one turnd.

  workers_relay.py SERVER:PORT USER:PASS CONTROL_SOCKET

turnd runs with workers = 2: the kernel hashes each client socket to one
worker, which owns its allocation. This opens UDP clients until two have
their allocations on different workers (the control socket's "sessions"
names each one's worker) and two on the same worker, then proves:
  1. a Send indication from client A to B's relayed address is dropped
     while B has no permission for A's relayed address (B's worker counts
     it in no_permission_dropped), and delivered once B installs one;
  2. B gets a Data indication from A's relayed address with A's bytes, and
     the same bytes as between two clients on one worker (the shortcut); it
     was handed from worker to worker (stats: worker_handoffs);
  3. the other way round (B to A) too;
  4. after B's allocation is deleted, A's datagrams to its old relayed
     address are dropped as own_port_dropped (the shared port map forgets it).
Exits 0 when all held, 1 otherwise.
"""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'security'))
from stun_attack import (A_PEER, COOKIE, CREATE_PERMISSION, INDICATION, REFRESH, SEND,  # noqa: E402
                         Client, attr, build, code_of, parse, server_addr, xor_peer)

A_RELAYED, A_DATA, A_LIFETIME = 0x16, 0x13, 0x0d
DATA_INDICATION = 7


def fail(msg):
    print('FAIL:', msg)
    sys.exit(1)


def control(path, request):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall((json.dumps(request) + '\n').encode())
    r = json.loads(s.makefile().readline())
    s.close()
    return r


def xor_addr(v):
    port = struct.unpack('!H', v[2:4])[0] ^ 0x2112
    raw = bytes(a ^ b for a, b in zip(v[4:8], struct.pack('!I', COOKIE)))
    return socket.inet_ntoa(raw), port


class Relay(Client):
    def allocate_relay(self):
        self.challenge()
        r = self.allocate()
        if code_of(r) != 'ok':
            fail(f'Allocate: {code_of(r)}')
        self.relay = xor_addr(r[1][A_RELAYED])
        self.local = '%s:%d' % self.s.getsockname()

    def permit(self, ip):
        r = self.signed(CREATE_PERMISSION, xor_peer(ip, 0))
        if code_of(r) != 'ok':
            fail(f'CreatePermission {ip}: {code_of(r)}')

    def send_to(self, addr, payload):
        self.s.sendto(build(SEND, INDICATION, xor_peer(addr[0], addr[1]) + attr(A_DATA, payload)),
                      self.server)

    def data(self, wait):
        """(peer address, payload) of the next Data indication, or None."""
        end = time.monotonic() + wait
        while time.monotonic() < end:
            self.s.settimeout(max(0.01, end - time.monotonic()))
            try:
                buf = self.s.recv(4096)
            except socket.timeout:
                return None
            p = parse(buf)
            t = struct.unpack('!H', buf[:2])[0]
            method = (t & 0xF) | ((t >> 1) & 0x70) | ((t >> 2) & 0xF80)
            if p and p[0] == INDICATION and method == DATA_INDICATION:
                return xor_addr(p[1][A_PEER]), p[1][A_DATA]
        return None


def stats(path):
    return control(path, {'cmd': 'stats'})['stats']


def main(argv):
    server = server_addr(argv[1])
    user, password = argv[2].split(':', 1)
    sock_path = argv[3]
    clients = []
    for _ in range(24):
        c = Relay(server, user, password)
        c.allocate_relay()
        clients.append(c)
        worker = {s['client']: s['worker'] for s in control(sock_path, {'cmd': 'sessions'})['sessions']}
        for x in clients:
            x.worker = worker[x.local]
        on = {}
        for x in clients:
            on.setdefault(x.worker, []).append(x)
        if len(on) >= 2 and any(len(v) >= 2 for v in on.values()):
            break
    else:
        fail(f'24 clients did not spread over two workers: {[x.worker for x in clients]}')
    a = next(v for v in on.values() if len(v) >= 2)[0]
    same = next(v for v in on.values() if len(v) >= 2)[1]
    b = next(v[0] for w, v in on.items() if w != a.worker)
    print(f'A {a.local} on worker {a.worker}, relay {a.relay}; B {b.local} on worker {b.worker}, '
          f'relay {b.relay}; C {same.local} on worker {same.worker}, relay {same.relay}')

    # 1. No permission on B's side: dropped there.
    a.permit(b.relay[0])
    before = stats(sock_path)['no_permission_dropped']
    a.send_to(b.relay, b'before permission')
    got = b.data(1.0)
    after = stats(sock_path)['no_permission_dropped']
    print(f'without B\'s permission: B got {got}; no_permission_dropped {before} -> {after}')
    if got is not None:
        fail('B received data from A\'s relay without a permission for it')
    if after <= before:
        fail('the datagram did not reach B\'s relay (no_permission_dropped did not move)')

    # 2. With it: delivered from A's relayed address, bytes intact.
    b.permit(a.relay[0])
    payload = os.urandom(300)
    handed = stats(sock_path)['worker_handoffs']
    a.send_to(b.relay, payload)
    got = b.data(2.0)
    handed_after = stats(sock_path)['worker_handoffs']
    print(f'worker_handoffs {handed} -> {handed_after}')
    if handed_after != handed + 1:
        fail('the datagram was not handed from worker to worker')
    print(f'with B\'s permission: B got {len(got[1]) if got else None} bytes from '
          f'{got[0] if got else None}')
    if got != (a.relay, payload):
        fail(f'expected {len(payload)} bytes from {a.relay}, got {got}')

    # The same on one worker (the shortcut inside a core): the same bytes.
    same.permit(a.relay[0])
    a.send_to(same.relay, payload)
    local = same.data(2.0)
    if local != (a.relay, payload):
        fail(f'same worker: expected {len(payload)} bytes from {a.relay}, got {local}')
    print('same worker: the same peer address and bytes')

    # 3. The other way round.
    back = os.urandom(77)
    b.send_to(a.relay, back)
    got = a.data(2.0)
    if got != (b.relay, back):
        fail(f'B to A: expected {len(back)} bytes from {b.relay}, got {got}')
    print('B to A across workers: delivered')

    # 4. B's allocation gone: its old relayed address is no relay any more.
    r = b.signed(REFRESH, attr(A_LIFETIME, struct.pack('!I', 0)))
    if code_of(r) != 'ok':
        fail(f'Refresh 0: {code_of(r)}')
    before = stats(sock_path)['own_port_dropped']
    a.send_to(b.relay, b'after delete')
    time.sleep(0.3)
    after = stats(sock_path)['own_port_dropped']
    print(f'after B\'s delete: own_port_dropped {before} -> {after}')
    if after != before + 1:
        fail('a datagram to a deleted relay address on another worker was not dropped')
    metrics = control(sock_path, {'cmd': 'metrics'})['metrics']
    line = next((x for x in metrics.splitlines()
                 if x.startswith('lanturn_turnd_worker_handoffs_total ')), '')
    print(f'metrics: {line}')
    if not line or int(line.split()[1]) != stats(sock_path)['worker_handoffs']:
        fail('metrics lack the handoffs the stats count')
    print('PASS')


if __name__ == '__main__':
    main(sys.argv)
