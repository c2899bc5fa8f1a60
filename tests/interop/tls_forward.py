#!/usr/bin/env python3
"""tls_forward.py - a TLS client leg for clients that speak TURN over plain TCP.

usage: tls_forward.py LISTEN_PORT SERVER_PORT CA_FILE SECONDS

Accepts TCP connections on 127.0.0.1:LISTEN_PORT and, for each, opens TLS to
localhost:SERVER_PORT (certificate checked against CA_FILE, name "localhost"),
then copies bytes both ways until either side closes. Prints one line per
connection with the negotiated TLS version and cipher, and exits after SECONDS.

libnice 0.1.21 does no TLS of its own in RFC 5245 mode (NICE_RELAY_TYPE_TURN_TLS
writes plain STUN to the server; only its Google and MS-OC modes wrap the
stream, in a fixed pseudo-SSL handshake), so the libnice TURN-TLS interop test
puts this in front of turnd's TLS port.
"""
import asyncio
import ssl
import sys


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    listen_port, server_port, ca_file, seconds = (int(sys.argv[1]), int(sys.argv[2]),
                                                  sys.argv[3], float(sys.argv[4]))
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2

    async def handle(client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection(
                '127.0.0.1', server_port, ssl=ctx, server_hostname='localhost')
        except (OSError, ssl.SSLError) as e:
            print(f'tls_forward: TLS to {server_port} failed: {e}', flush=True)
            client_w.close()
            return
        obj = server_w.get_extra_info('ssl_object')
        print(f'tls_forward: connection {obj.version()} {obj.cipher()[0]} '
              f'verified=localhost', flush=True)
        await asyncio.gather(pump(client_r, server_w), pump(server_r, client_w))

    server = await asyncio.start_server(handle, '127.0.0.1', listen_port)
    print(f'tls_forward: listening on 127.0.0.1:{listen_port} -> localhost:{server_port}',
          flush=True)
    async with server:
        await asyncio.sleep(seconds)


if __name__ == '__main__':
    asyncio.run(main())
