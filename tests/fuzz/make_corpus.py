#!/usr/bin/env python3
"""make_corpus.py - writes the seed inputs of tests/fuzz/corpus/stun/.

Each seed is a small message a STUN/TURN server meets in practice, or a
deliberately broken variant of one, so libFuzzer starts from inputs that
already reach deep into the parser. Run it from anywhere; it rewrites only
the files it names (inputs added by hand, such as crash regressions, stay).

    python3 tests/fuzz/make_corpus.py
"""
import hashlib
import hmac
import ipaddress
import os
import struct
import zlib

COOKIE = 0x2112A442
TID = bytes(range(1, 13))
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "stun")

# RFC 5769 §2: the test vectors, as hex.
RFC5769 = {
    "rfc5769_sample_request": (
        "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e20746573"
        "7420636c69656e74002400046e0001ff80290008932ff9b151263b3600060009"
        "6576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249"
        "c1b571a280280004e57a3bcf"
    ),
    "rfc5769_ipv4_response": (
        "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
        "746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f9"
        "2af9ba53f06be7d780280004c07d4c96"
    ),
    "rfc5769_ipv6_response": (
        "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563"
        "746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014"
        "a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c"
    ),
    "rfc5769_long_term_request": (
        "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383"
        "aae38383e382afe382b900000015001c662f2f3439396b39353464364f4c3334"
        "6f4c394653547679363473410014000b6578616d706c652e6f72670000080014"
        "f67024656dd64a3e02b8e0712e85c9a28ca89666"
    ),
}


def msg_type(method, cls):
    """RFC 8489 §5: the class bits sit between the method bits."""
    return ((method & 0x00F) | ((method & 0x070) << 1) | ((method & 0xF80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def attr(atype, value):
    pad = (-len(value)) % 4
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * pad


def header(mtype, body_len, tid=TID, cookie=COOKIE):
    return struct.pack("!HHI", mtype, body_len, cookie) + tid


class Msg:
    """A message under construction, kept valid at every step like the C builder."""

    def __init__(self, method, cls, tid=TID):
        self.mtype = msg_type(method, cls)
        self.tid = tid
        self.body = b""

    def add(self, atype, value):
        self.body += attr(atype, value)
        return self

    def wire(self, extra=0):
        return header(self.mtype, len(self.body) + extra, self.tid) + self.body

    def integrity(self, key):
        mac = hmac.new(key, self.wire(24), hashlib.sha1).digest()
        return self.add(0x0008, mac)

    def integrity_sha256(self, key):
        mac = hmac.new(key, self.wire(36), hashlib.sha256).digest()
        return self.add(0x001C, mac)

    def fingerprint(self):
        crc = zlib.crc32(self.wire(8)) ^ 0x5354554E
        return self.add(0x8028, struct.pack("!I", crc))

    def bytes(self):
        return self.wire()


def xor_addr(ip, port, tid=TID):
    """XOR-*-ADDRESS value (RFC 8489 §14.2) for a dotted or colon IP text."""
    raw = ipaddress.ip_address(ip).packed
    mask = struct.pack("!I", COOKIE) + tid
    family = 1 if len(raw) == 4 else 2
    xored = bytes(a ^ b for a, b in zip(raw, mask))
    return struct.pack("!BBH", 0, family, port ^ (COOKIE >> 16)) + xored


def chandata(chan, payload, pad=True):
    data = struct.pack("!HH", chan, len(payload)) + payload
    return data + b"\0" * ((-len(payload)) % 4 if pad else 0)


def seeds():
    key = hashlib.md5(b"alice:lanturn:s3cret").digest()
    nonce = b"0123456789abcdef"
    s = {name: bytes.fromhex(h) for name, h in RFC5769.items()}

    s["binding_rfc3489"] = header(0x0001, 0, tid=bytes(12), cookie=0xDEADBEEF)
    s["allocate_auth"] = (Msg(0x003, 0).add(0x0019, b"\x11\0\0\0").add(0x000D, b"\0\0\x02\x58")
                          .add(0x0006, b"alice").add(0x0014, b"lanturn").add(0x0015, nonce)
                          .integrity(key).fingerprint().bytes())
    s["allocate_even_port_v6"] = (Msg(0x003, 0).add(0x0019, b"\x11\0\0\0").add(0x0018, b"\x80")
                                  .add(0x0017, b"\x02\0\0\0").add(0x001A, b"")
                                  .add(0x0006, b"alice").add(0x0014, b"lanturn")
                                  .add(0x0015, nonce).integrity(key).bytes())
    s["allocate_success"] = (Msg(0x003, 2).add(0x0016, xor_addr("203.0.113.5", 49152))
                             .add(0x0020, xor_addr("198.51.100.7", 40000))
                             .add(0x000D, b"\0\0\x02\x58").add(0x0022, b"tokentok")
                             .add(0x8022, b"lanturn").integrity(key).fingerprint().bytes())
    s["allocate_401"] = (Msg(0x003, 3).add(0x0009, b"\0\0\x04\x01Unauthorized")
                         .add(0x0014, b"lanturn").add(0x0015, nonce)
                         .add(0x8002, b"\0\x01\0\0\0\x02\0\0").fingerprint().bytes())
    s["refresh_zero"] = (Msg(0x004, 0).add(0x000D, b"\0\0\0\0").add(0x0006, b"alice")
                         .add(0x0014, b"lanturn").add(0x0015, nonce).integrity(key).bytes())
    s["create_permission_v6"] = (Msg(0x008, 0).add(0x0012, xor_addr("2001:db8::7", 0))
                                 .add(0x0012, xor_addr("192.0.2.9", 0)).add(0x0006, b"alice")
                                 .add(0x0014, b"lanturn").add(0x0015, nonce)
                                 .integrity(key).bytes())
    s["channel_bind"] = (Msg(0x009, 0).add(0x000C, b"\x40\x01\0\0")
                         .add(0x0012, xor_addr("192.0.2.9", 5000)).add(0x0006, b"alice")
                         .add(0x0014, b"lanturn").add(0x0015, nonce).integrity(key)
                         .fingerprint().bytes())
    s["data_indication"] = (Msg(0x007, 1).add(0x0012, xor_addr("192.0.2.9", 5000))
                            .add(0x0013, b"\x80\x00payload").bytes())
    s["unknown_attributes_420"] = (Msg(0x001, 3).add(0x0009, b"\0\0\x04\x14Unknown Attribute")
                                   .add(0x000A, b"\0\x31\0\x32\x7f\xff").fingerprint().bytes())
    s["ice_binding_sha256"] = (Msg(0x001, 0).add(0x0006, b"abcd:efgh").add(0x0024, b"\x6e\0\x01\xff")
                               .add(0x802A, b"\x01\x02\x03\x04\x05\x06\x07\x08").add(0x0025, b"")
                               .integrity(b"pass").integrity_sha256(b"pass").fingerprint()
                               .bytes())
    s["after_integrity_ignored"] = (Msg(0x001, 0).add(0x0006, b"bob").integrity(b"k")
                                    .add(0x0014, b"ignored").fingerprint().bytes())
    many = Msg(0x001, 0)
    for _ in range(41):  # one more than STUN_MAX_ATTRS
        many.add(0x0026, b"")
    s["too_many_attributes"] = many.bytes()

    binding = Msg(0x001, 0).add(0x8022, b"lanturn").fingerprint().bytes()
    s["truncated_header"] = binding[:19]
    s["trailing_bytes"] = binding + b"\0\0\0\0"
    bad_fp = bytearray(binding)
    bad_fp[-1] ^= 0x01
    s["bad_fingerprint"] = bytes(bad_fp)
    overrun = bytearray(Msg(0x001, 0).add(0x0006, b"user").bytes())
    overrun[23] = 0x09  # USERNAME length 9 pads to 12, past the body
    s["attribute_overrun"] = bytes(overrun)

    s["chandata_padded"] = chandata(0x4001, b"hello")
    s["chandata_unpadded_max"] = chandata(0x7FFE, b"rtp!!", pad=False)
    s["chandata_empty"] = chandata(0x4FFF, b"")
    s["chandata_bad_channel"] = chandata(0x3FFF, b"abcd")
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
