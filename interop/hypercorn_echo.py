"""A WebSocket echo ASGI app for Hypercorn, which serves it over HTTP/1.1 and, with prior-knowledge
h2c, over HTTP/2 (RFC 8441 extended CONNECT): interop/run.sh's `hypercorn-h2` agent.

    python3 interop/hypercorn_echo.py [CERT KEY]   # prints the port, then serves until killed

With CERT and KEY (PEM files) it serves TLS, where Hypercorn offers ALPN h2 and http/1.1: the
`hypercorn-h2-tls` agent (HTTP/2 over TLS).

The message size limit is raised to 64 MiB for the 9.x cases (16 MiB messages).
"""

import asyncio
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.websocket_max_message_size = 64 * 1024 * 1024
    config.h2_max_inbound_frame_size = 1 << 16
    config.accesslog = None
    if len(sys.argv) == 3:
        config.certfile, config.keyfile = sys.argv[1], sys.argv[2]
    print(port, flush=True)
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    sys.exit(main())
