"""Serve labour_app.application with eventlet.wsgi.server.

usage: python serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (default 1024)

One process; every connection gets its own greenthread. SIGTERM or SIGINT
stops it at once (requests still open are cut off) and the process exits 0,
even when a request is spinning in pure Python.
"""

# Patch the standard library first, so that time.sleep and file and socket
# calls in the app yield to other greenthreads instead of blocking the process.
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402

from labour_app import application  # noqa: E402


def _stop(signum, frame):
    # eventlet passes SystemExit on to the main greenthread, and
    # eventlet.wsgi.server() takes it as "stop serving": it leaves its accept
    # loop, closes the listening socket and returns.
    raise SystemExit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=int, default=1024)
    arguments = parser.parse_args()
    sock = eventlet.listen((arguments.host, arguments.port), backlog=arguments.backlog)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.stdout.write("eventlet %s serving on http://%s:%d\n"
                     % (eventlet.__version__, arguments.host, arguments.port))
    sys.stdout.flush()
    # log_output=False: no access log line per request; errors still go to stderr.
    eventlet.wsgi.server(sock, application, log_output=False)


if __name__ == "__main__":
    main()
