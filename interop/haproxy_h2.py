"""HAProxy as an HTTP/2 front end (RFC 8441) for the websockets echo server: interop/run.sh's
`haproxy-h2` agent (h2c, prior knowledge) and `haproxy-h2-tls` agent (TLS with ALPN h2).

Usage: haproxy_h2.py [CERT KEY]

Starts interop/websockets_echo.py (HTTP/1.1) on a free port, then HAProxy (Debian's `haproxy`
package, `haproxy` on PATH or $HAPROXY) in the foreground with a front end on another free port of
127.0.0.1 that speaks HTTP/2 only: `bind ... proto h2` (h2c), or with CERT and KEY (PEM files)
`bind ... ssl crt PEM alpn h2`. HAProxy advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, turns each
extended CONNECT into an HTTP/1.1 GET with `Upgrade: websocket` to the echo server, and tunnels the
stream once it answers 101. Prints the front end's port as the first line of stdout once it
accepts connections; SIGTERM or SIGINT stops both processes and exits with status 0.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START_TIMEOUT = 10.0

# `timeout tunnel` bounds an idle WebSocket (the longest case pause is a few seconds);
# tune.h2.initial-window-size lets wsspec's 16 MiB messages (9.1.6, 22.2.2) cross in fewer
# WINDOW_UPDATE rounds than the 65,535-byte default.
CONFIG = """\
global
    tune.h2.initial-window-size 1048576
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 60s
frontend h2
    bind 127.0.0.1:{front} {bind}
    default_backend echo
backend echo
    server echo 127.0.0.1:{back}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def main():
    tls = sys.argv[1:3]
    work = tempfile.mkdtemp(prefix="wsspec-haproxy-")
    echo = subprocess.Popen([sys.executable, os.path.join(HERE, "websockets_echo.py"), "0"], stdout=subprocess.PIPE, text=True)
    procs = [echo]

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    line = echo.stdout.readline().strip()
    if not line.isdigit():
        print(f"haproxy_h2: the echo server did not print its port (got {line!r})", file=sys.stderr)
        stop()
    bind = "proto h2"
    if tls:
        pem = os.path.join(work, "haproxy.pem")
        with open(pem, "w") as out:
            for path in tls:
                with open(path) as part:
                    out.write(part.read())
        bind = f"ssl crt {pem} alpn h2"
    front = free_port()
    config = os.path.join(work, "haproxy.cfg")
    with open(config, "w") as f:
        f.write(CONFIG.format(front=front, back=int(line), bind=bind))
    haproxy = subprocess.Popen([os.environ.get("HAPROXY", "haproxy"), "-db", "-f", config])
    procs.append(haproxy)
    deadline = time.monotonic() + START_TIMEOUT
    while not accepts(front):
        if haproxy.poll() is not None or time.monotonic() > deadline:
            print(f"haproxy_h2: HAProxy did not come up on 127.0.0.1:{front} (config {config})", file=sys.stderr)
            stop()
        time.sleep(0.1)
    print(front, flush=True)
    while all(p.poll() is None for p in procs):
        time.sleep(0.5)
    print("haproxy_h2: a process exited on its own", file=sys.stderr)
    stop()


if __name__ == "__main__":
    main()
