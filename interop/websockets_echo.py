"""Echo server built on Python `websockets` (asyncio API), the interop target "websockets".

Usage: websockets_echo.py [--deflate] [PORT] [CERT KEY]

With CERT and KEY (PEM files) it serves wss:// (an ssl context), the interop
target "websockets-tls". With --deflate it negotiates permessage-deflate
(RFC 7692) with websockets' own defaults, the interop target
"websockets-deflate".

Listens on 127.0.0.1:PORT (default 0 = a free port chosen by the OS) and prints
the port actually bound as the first line of stdout, once the socket accepts
connections. Every text or binary message is echoed back with the same type.
SIGTERM or SIGINT closes the server and exits with status 0.

Configured the way a user running the Autobahn 9.x (limits) cases would:
- max_size 2**25 (32 MiB) for messages and frames: 9.1.6/9.2.6 send 16 MiB;
  same value as python-websockets' own compliance server;
- WEBSOCKETS_MAX_FRAGMENTS 65536 (default 4096): 9.3.1/9.4.1 send a 4 MiB
  message in 64-byte frames, i.e. exactly 65,536 frames. websockets reads
  this variable once, at import time, so it is set before the import below;
- compression None: no permessage-deflate, sections 12/13 are UNIMPLEMENTED;
  with --deflate, compression "deflate" (the library's default): websockets
  17.4 then accepts an offer as `enable_server_permessage_deflate` configures
  it, server_max_window_bits=12 and client_max_window_bits=12 (the latter only
  when the client offered it), memLevel 5, context takeover in both
  directions unless the offer asks otherwise; every message is compressed;
- ping_interval None: no keepalive pings, which would otherwise appear as
  unexpected events in any case running longer than 20 s.
"""

import asyncio
import logging
import os
import signal
import ssl
import sys

MAX_SIZE = 2**25
MAX_FRAGMENTS = 65536

os.environ["WEBSOCKETS_MAX_FRAGMENTS"] = str(MAX_FRAGMENTS)

from websockets.asyncio.server import serve  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402

# The suite deliberately sends broken frames; the resulting per-connection
# errors are the expected outcome, not something to log.
logging.basicConfig(level=logging.CRITICAL)


async def echo(ws):
    try:
        async for message in ws:  # str for text, bytes for binary
            await ws.send(message)
    except WebSocketException:
        pass


async def main(port, cert=None, key=None, deflate=False):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def on_signal():
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)

    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

    async with serve(
        echo,
        "127.0.0.1",
        port,
        compression="deflate" if deflate else None,
        max_size=MAX_SIZE,
        ping_interval=None,
        ssl=context,
    ) as server:
        bound = server.sockets[0].getsockname()[1]
        print(bound, flush=True)
        await stop
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    deflate = "--deflate" in args
    args = [a for a in args if a != "--deflate"]
    port = int(args[0]) if args else 0
    cert, key = args[1:3] if len(args) > 2 else (None, None)
    sys.exit(asyncio.run(main(port, cert, key, deflate)))
