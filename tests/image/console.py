#!/usr/bin/env python3
"""console.py - drive the appliance's serial console (a qemu chardev unix socket) like a person:

  console.py SOCKET login USER PASSWORD [TIMEOUT]   log in on the console's getty
  console.py SOCKET run TIMEOUT COMMAND...          run a shell command in that login;
                                                    its output is printed, its exit status returned

Each call connects afresh; the login session stays on the serial port between calls.
"""
import re
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(0.5)
    return s


def expect(s, pattern, timeout, buf=b""):
    rx = re.compile(pattern)
    end = time.time() + timeout
    while time.time() < end:
        m = rx.search(buf)
        if m:
            return buf, m
        try:
            data = s.recv(65536)
            if not data:
                break
            buf += data
        except socket.timeout:
            pass
    raise TimeoutError("no %r within %ss; last output: %r" % (pattern, timeout, buf[-400:]))


def login(path, user, password, timeout):
    s = connect(path)
    end = time.time() + timeout
    while True:  # the getty may still be starting, or a shell may be left from a previous login
        s.sendall(b"\r")
        try:
            buf, m = expect(s, rb"(login: $|login: \s*$|LT# $)", 5)
            break
        except TimeoutError:
            if time.time() > end:
                raise
    if m.group(1).startswith(b"LT#"):
        s.sendall(b"exit\r")
        expect(s, rb"login: ", 30)
    s.sendall(user.encode() + b"\r")
    expect(s, rb"Password: ", 30)
    s.sendall(password.encode() + b"\r")
    buf, m = expect(s, rb"(# $|\$ $|Login incorrect)", 60)
    if m.group(1) == b"Login incorrect":
        print("login refused", file=sys.stderr)
        return 1
    s.sendall(b"stty -echo cols 500; dmesg -n 1; bind 'set enable-bracketed-paste off'; PS1='LT# '; export SYSTEMD_PAGER= PAGER=cat\r")
    expect(s, rb"LT# $", 30)
    return 0


def run(path, timeout, command):
    s = connect(path)
    s.sendall(b"\r")
    expect(s, rb"LT# $", 30)
    tag = "%d" % (time.time() * 1000)
    # the output is what comes between two markers (prompts and kernel messages may precede it)
    s.sendall(("echo __GO_%s__; %s; echo \"__RC_%s=$?__\"\r" % (tag, command, tag)).encode())
    buf, m = expect(s, ("__RC_%s=([0-9]+)__" % tag).encode(), timeout)
    start = buf.rfind(("__GO_%s__" % tag).encode(), 0, m.start())
    out = buf[start + len(tag) + 7 : m.start()].decode(errors="replace").replace("\r", "")
    sys.stdout.write(out.strip("\n") + ("\n" if out.strip("\n") else ""))
    return int(m.group(1))


def main(argv):
    if len(argv) >= 5 and argv[2] == "login":
        return login(argv[1], argv[3], argv[4], float(argv[5]) if len(argv) > 5 else 120)
    if len(argv) >= 5 and argv[2] == "run":
        return run(argv[1], float(argv[3]), " ".join(argv[4:]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (TimeoutError, OSError) as e:
        print("console: %s" % e, file=sys.stderr)
        sys.exit(124)
