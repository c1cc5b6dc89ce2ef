#!/usr/bin/env python3
"""A hostile WebSocket server for bench/hostile.sh (loopback only, standard library only).

    hostile_peer.py MODE [PORT]      prints ws://127.0.0.1:PORT/ once listening (PORT 0: any free port)

Modes (what the server does on every connection):
  echo        a plain echo server (the baseline)
  ping-flood  opens the WebSocket, then sends pings without end
  text-flood  opens the WebSocket, then sends 1-byte text messages without end
  huge        answers every frame it receives with a 16 MiB text message
  frag        opens the WebSocket, then sends one text message of 1-byte fragments without end
  drip        echoes, one byte every 20 ms (a slow drip: every case runs into its timeouts)
  blackhole   accepts TCP, reads, never answers
  crash9      echoes, but on a message of 64 KiB or more sends half of it unfinished and drops TCP
              (a server that crashes on the 9.x cases)
  chatty      opens the WebSocket with markup in its response headers, sends 14 rounds of a distinct
              125-byte ping, a distinct binary message and a distinct markup text message, then
              echoes; answers a close with a 125-byte close frame whose reason is markup (every case's
              record and page filled with distinct, escape-heavy text)
"""
import asyncio
import base64
import hashlib
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MODES = ("echo", "ping-flood", "text-flood", "huge", "frag", "drip", "blackhole", "crash9", "chatty")


def frame(opcode, payload, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, 126, n)
    else:
        head = struct.pack("!BBQ", b0, 127, n)
    return head + payload


def unmask(key, data):
    if not data:
        return data
    n = len(data)
    k = (key * ((n + 3) // 4))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else None
    payload = await reader.readexactly(n)
    return b0 & 0x80, b0 & 0x0F, unmask(key, payload) if key else payload


async def accept(reader, writer, extra=""):
    request = await reader.readuntil(b"\r\n\r\n")
    key = b""
    for line in request.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept_key = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    writer.write(
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept_key, extra)).encode())
    await writer.drain()


HUGE = frame(1, b"a" * (16 << 20))
MARKUP = '<script>alert(%d)</script>&amp;"\'</td></tr><!--'
CHATTY_HEADERS = "X-Evil: <script>alert('hdr')</script>\r\nServer: </pre><img src=x onerror=alert(1)>\r\n"
CHATTY_CLOSE = frame(8, b"\x03\xe8" + (b"<b onmouseover=alert(2)>" * 6)[:123])


def chatter(writer):
    """14 rounds of a distinct 125-byte ping, binary message and markup text message."""
    for i in range(14):
        writer.write(frame(9, (("P%d<>for i in range(25):" % i) * 30).encode()[:125]))
        writer.write(frame(2, bytes([i]) * 200 + b"<>for i in range(25):" * i))
        writer.write(frame(1, (MARKUP % i).encode() + b"x" * i))


async def flood(writer, burst):
    burst = burst * 1000
    while True:
        writer.write(burst)
        await writer.drain()


async def echo_loop(reader, writer, mode):
    parts, opcode = [], 1
    while True:
        fin, op, payload = await read_frame(reader)
        if mode == "huge":
            writer.write(HUGE)
            await writer.drain()
            continue
        if op == 8:
            writer.write(CHATTY_CLOSE if mode == "chatty" else frame(8, payload[:2]))
            await writer.drain()
            return
        if op == 9:
            writer.write(frame(10, payload))
            await writer.drain()
            continue
        if op == 10:
            continue
        if op != 0:
            opcode, parts = op, []
        parts.append(payload)
        if not fin:
            continue
        message = b"".join(parts)
        parts = []
        out = frame(opcode, message)
        if mode == "crash9" and len(message) >= 65536:
            writer.write(frame(opcode, message[: len(message) // 2], fin=False))
            await writer.drain()
            writer.transport.abort()
            return
        if mode == "drip":
            for i in range(len(out)):
                writer.write(out[i:i + 1])
                await writer.drain()
                await asyncio.sleep(0.02)
            continue
        writer.write(out)
        await writer.drain()


async def handle(reader, writer, mode):
    try:
        if mode == "blackhole":
            while await reader.read(65536):
                pass
            return
        await accept(reader, writer, CHATTY_HEADERS if mode == "chatty" else "")
        if mode == "chatty":
            chatter(writer)
            await writer.drain()
        if mode == "ping-flood":
            await flood(writer, frame(9, b"ping!"))
        elif mode == "text-flood":
            await flood(writer, frame(1, b"x"))
        elif mode == "frag":
            writer.write(frame(1, b"a", fin=False))
            await flood(writer, frame(0, b"a", fin=False))
        else:
            await echo_loop(reader, writer, mode)
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main():
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    mode, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = await asyncio.start_server(lambda r, w: handle(r, w, mode), "127.0.0.1", port, limit=1 << 16)
    print("ws://127.0.0.1:%d/" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
