"""Serve labour_app.application with gevent.pywsgi.WSGIServer.

usage: python serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (WSGIServer's backlog; gevent's own
               default without it)

One process; every connection gets its own greenlet. SIGTERM or SIGINT stops
it at once (requests still open are cut off) and the process exits 0, even
when a request is spinning in pure Python.
"""

# Patch the standard library first, so that time.sleep and file and socket
# calls in the app yield to other greenlets instead of blocking the process.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from labour_app import application  # noqa: E402


def _stop(signum, frame):
    # A plain Python handler, not gevent.signal_handler: that one runs in the
    # hub, which never gets control while a request spins (PythonWedge). gevent
    # passes SystemExit on to the main greenlet, and serve_forever() returns.
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
    parser.add_argument("--backlog", type=positive_int)
    arguments = parser.parse_args()
    host, port = arguments.host, arguments.port
    options = {} if arguments.backlog is None else {"backlog": arguments.backlog}
    # log=None: no access log line per request; errors still go to stderr.
    server = WSGIServer((host, port), application, log=None, **options)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("gevent %s serving on http://%s:%d" % (gevent.__version__, host, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
