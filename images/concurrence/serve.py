"""Serve labour_app with Concurrence's WSGIServer, as the seed's driver did.

usage: serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (Concurrence listens with 255
               otherwise: DEFAULT_BACKLOG in concurrence.io.socket)

The seed served `concurrence.http.WSGIServer(app)` under
`concurrence.dispatch` (its author marked it "does not comply with the WSGI
protocol correctly"): this does the same. WSGIServer.serve(endpoint) is
Server.serve, a SocketServer that binds, listens and accepts; serve.py
makes that SocketServer itself only to hand it the backlog. Every
connection is a tasklet (a greenlet) on libevent's loop in one process: a
plain WSGI app runs on it one request at a time. dispatch quits on SIGINT;
SIGTERM ends the process (143).
"""

import argparse
import logging
import sys

from concurrence import dispatch
from concurrence.http import WSGIServer
from concurrence.io.socket import SocketServer

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
    parser.add_argument("--backlog", type=positive_int, default=255)
    arguments = parser.parse_args()
    # Concurrence logs unhandled errors in handlers through logging.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    server = WSGIServer(application)

    def serve():
        listener = SocketServer((arguments.host, arguments.port), server.handle_connection)
        listener.bind()
        listener.listen(arguments.backlog)
        listener.serve()
        sys.stdout.write("concurrence serving on http://%s:%d\n" % (arguments.host, arguments.port))
        sys.stdout.flush()

    dispatch(serve)


if __name__ == "__main__":
    main()
