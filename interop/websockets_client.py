"""Autobahn client driver for Python `websockets` (asyncio API), the interop client agent "websockets-client".

Usage: websockets_client.py [--deflate] BASE_URL AGENT [CA]   (e.g. ws://127.0.0.1:9001 websockets-client)

With CA (a PEM file) and a wss:// BASE_URL it verifies the server against that
CA only (ssl.create_default_context(cafile=CA)), the agent "websockets-client-tls".

Modelled on python-websockets' own compliance/asyncio/client.py: ask
BASE_URL/getCaseCount for the number of cases, run them one at a time
(BASE_URL/runCase?case=N&agent=AGENT, echoing every message with its type
until the connection closes), then connect to BASE_URL/updateReports?agent=AGENT.
Protocol errors are the expected outcome of many cases, so WebSocketException
is swallowed per case, as upstream does; one line per case goes to stdout.

Same configuration as the websockets echo server (websockets_echo.py):
- max_size 2**25 (32 MiB), as upstream's compliance client;
- WEBSOCKETS_MAX_FRAGMENTS 65536 (default 4096), read at import time, so it is
  set before the import below: 9.3.1/9.4.1 send 65,536 frames;
- compression None: no permessage-deflate (upstream's driver omits it because
  its fuzzingserver.json excludes 12.*/13.*); with --deflate (the agent
  "websockets-deflate-client") compression="deflate", websockets' default:
  its offer is `permessage-deflate; client_max_window_bits` (see
  enable_client_permessage_deflate);
- ping_interval None: no keepalive pings inside a long case;
- proxy None: the server is on loopback, never go through an HTTP(S)_PROXY
  from the environment (websockets >= 15 honours it by default).
Exit status: 0 once updateReports was reached, 1 if getCaseCount or
updateReports failed.
"""

import asyncio
import json
import logging
import os
import ssl
import sys

MAX_SIZE = 2**25
MAX_FRAGMENTS = 65536

os.environ["WEBSOCKETS_MAX_FRAGMENTS"] = str(MAX_FRAGMENTS)

from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import WebSocketException  # noqa: E402

# The suite deliberately sends broken frames; the resulting per-connection
# errors are the expected outcome, not something to log.
logging.basicConfig(level=logging.CRITICAL)

# connect() keyword arguments for TLS: {"ssl": context} with a CA, else none.
TLS = {}
# The case connections' compression: None, or "deflate" with --deflate.
COMPRESSION = {"compression": None}


async def get_case_count(server):
    async with connect(f"{server}/getCaseCount", proxy=None, **TLS) as ws:
        return json.loads(await ws.recv())


async def run_case(server, agent, case):
    async with connect(
        f"{server}/runCase?case={case}&agent={agent}",
        max_size=MAX_SIZE,
        **COMPRESSION,
        ping_interval=None,
        proxy=None,
        **TLS,
    ) as ws:
        try:
            async for msg in ws:  # str for text, bytes for binary
                await ws.send(msg)
        except WebSocketException:
            pass


async def update_reports(server, agent):
    async with connect(
        f"{server}/updateReports?agent={agent}",
        open_timeout=60,
        proxy=None,
        **TLS,
    ):
        pass


async def main(server, agent):
    cases = await get_case_count(server)
    for case in range(1, cases + 1):
        print(f"Running test case {case:03d} / {cases}... ", end="\t")
        try:
            await run_case(server, agent, case)
        except WebSocketException as exc:
            print(f"ERROR: {type(exc).__name__}: {exc}")
        except Exception as exc:
            print(f"FAIL: {type(exc).__name__}: {exc}")
        else:
            print("OK")
    print(f"Ran {cases} test cases")
    await update_reports(server, agent)
    print("Updated reports")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--deflate"]:
        COMPRESSION["compression"] = "deflate"
        args = args[1:]
    if len(args) not in (2, 3):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    if len(args) == 3:
        TLS["ssl"] = ssl.create_default_context(cafile=args[2])
    sys.exit(asyncio.run(main(args[0].rstrip("/"), args[1])))
