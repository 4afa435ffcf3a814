"""Serve labour_app.application with eventlet.wsgi.server.

usage: python serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (eventlet.listen's backlog, 50
               without it)

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

import eventlet.wsgi  # noqa: E402

from labour_app import application  # noqa: E402


def _stop(signum, frame):
    # eventlet passes SystemExit on to the main greenthread, and
    # eventlet.wsgi.server() takes it as "stop serving": it leaves its accept
    # loop, closes the listening socket and returns.
    raise SystemExit(0)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=positive_int, default=50)
    arguments = parser.parse_args()
    host, port = arguments.host, arguments.port
    sock = eventlet.listen((host, port), backlog=arguments.backlog)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("eventlet %s serving on http://%s:%d" % (eventlet.__version__, host, port), flush=True)
    # log_output=False: no access log line per request; errors still go to stderr.
    eventlet.wsgi.server(sock, application, log_output=False)


if __name__ == "__main__":
    main()
