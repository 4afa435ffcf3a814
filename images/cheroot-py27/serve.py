"""Serve labour_app with CherryPy 8.9's cherrypy.wsgiserver, the seed's CherryPy server.

usage: serve.py HOST PORT [--threads N] [--backlog N]

  --threads N  worker threads in the fixed pool (numthreads, default 10)
  --backlog N  the listen queue length (request_queue_size, default 1024)

One process: an accept thread hands connections to the pool. SIGTERM stops
the server and exits with status 0.
"""

import argparse
import os
import signal
import sys

from cherrypy import wsgiserver

from labour_app import application


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--threads", type=positive_int, default=10)
    parser.add_argument("--backlog", type=positive_int, default=1024)
    arguments = parser.parse_args()
    server = wsgiserver.CherryPyWSGIServer(
        (arguments.host, arguments.port),
        application,
        numthreads=arguments.threads,
        request_queue_size=arguments.backlog,
    )
    # The accept loop (start()) runs in the main thread and lets SystemExit
    # through; stop() then shuts the pool down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stdout.write("cherrypy.wsgiserver serving on http://%s:%d (%d threads)\n"
                     % (arguments.host, arguments.port, arguments.threads))
    sys.stdout.flush()
    try:
        server.start()
    except (KeyboardInterrupt, SystemExit):
        server.stop()
    # Leave at once: a thread stuck in the app (PythonWedge) would otherwise
    # keep the process alive at interpreter exit.
    os._exit(0)


if __name__ == "__main__":
    main()
