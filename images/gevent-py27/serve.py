"""Serve labour_app.application with gevent 1.2's gevent.wsgi.WSGIServer.

usage: python serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (default 1024)

One process; every connection gets its own greenlet. gevent.wsgi is the
module the seed used; in gevent 1.2 it is gevent.pywsgi under its old name.
SIGTERM or SIGINT stops it at once (requests still open are cut off) and
the process exits 0, even when a request is spinning in pure Python.
"""

# Patch the standard library first, so that time.sleep and file and socket
# calls in the app yield to other greenlets instead of blocking the process.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.wsgi import WSGIServer  # noqa: E402

from labour_app import application  # noqa: E402


def _stop(signum, frame):
    # A plain Python handler, not gevent.signal: that one runs in the hub,
    # which never gets control while a request spins (PythonWedge). gevent
    # passes SystemExit on to the main greenlet, and serve_forever() returns.
    raise SystemExit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=int, default=1024)
    arguments = parser.parse_args()
    # log=None: no access log line per request; errors still go to stderr.
    server = WSGIServer((arguments.host, arguments.port), application, log=None,
                        backlog=arguments.backlog)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.stdout.write("gevent %s serving on http://%s:%d\n"
                     % (gevent.__version__, arguments.host, arguments.port))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
