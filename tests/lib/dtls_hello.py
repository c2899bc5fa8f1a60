"""dtls_hello.py - a DTLS 1.2 ClientHello built by hand, for tests that must
send one without a DTLS library: with no cookie, a forged one, or one turnd
gave back; and the cookie out of a HelloVerifyRequest."""
import os
import struct


def client_hello(cookie=b"", seq=0, random=None):
    """One record holding a whole ClientHello (record version DTLS 1.0, as
    clients send it; client_version DTLS 1.2; ECDHE-ECDSA/RSA AES-GCM)."""
    suites = bytes.fromhex("c02bc02fc02cc030c009c013")
    groups = struct.pack("!H", 4) + bytes.fromhex("001d0017")
    sigs = struct.pack("!H", 4) + bytes.fromhex("04030804")
    exts = (struct.pack("!HH", 10, len(groups)) + groups + struct.pack("!HH", 11, 2) + b"\x01\x00"
            + struct.pack("!HH", 13, len(sigs)) + sigs)
    body = (b"\xfe\xfd" + (random or os.urandom(32)) + b"\x00" + bytes([len(cookie)]) + cookie
            + struct.pack("!H", len(suites)) + suites + b"\x01\x00" + struct.pack("!H", len(exts))
            + exts)
    hs = (b"\x01" + len(body).to_bytes(3, "big") + struct.pack("!H", seq) + b"\x00\x00\x00"
          + len(body).to_bytes(3, "big") + body)
    return b"\x16\xfe\xff" + b"\x00\x00" + seq.to_bytes(6, "big") + struct.pack("!H", len(hs)) + hs


def handshake_type(record):
    """The handshake message type in a plaintext handshake record, else None."""
    return record[13] if record and len(record) > 13 and record[0] == 22 else None


def cookie_of(hello_verify_request):
    n = hello_verify_request[13 + 12 + 2]
    return hello_verify_request[13 + 12 + 3:13 + 12 + 3 + n]
