"""Serve labour_app with tornado 5.1: WSGIContainer behind tornado's HTTPServer.

usage: serve.py HOST PORT [--workers N] [--backlog N]

  --workers N  fork N worker processes with tornado.process.fork_processes,
               which restarts a child that dies abnormally (default 1: no fork)
  --backlog N  the listen queue length (default 1024)

tornado 5.1's WSGIContainer runs the app on the IOLoop thread, one request
at a time (a thread pool for it came in tornado 6.3). SIGTERM ends the
server with status 0 (with --workers > 1 the parent passes SIGTERM on to
the children and exits after them).
"""

import argparse
import os
import signal
import sys

import tornado
import tornado.netutil
import tornado.process
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.wsgi import WSGIContainer

from labour_app import application


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--workers", type=positive_int, default=1)
    parser.add_argument("--backlog", type=positive_int, default=1024)
    return parser.parse_args()


def parent_sigterm(signum, frame):
    # Ignore further SIGTERMs here and send one to the whole process group,
    # i.e. to the children. They exit with status 0, so fork_processes does
    # not restart them and, once all are gone, calls sys.exit(0) itself.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)


def main():
    arguments = parse_arguments()
    # Bind before forking so that every child accepts on the same sockets.
    sockets = tornado.netutil.bind_sockets(arguments.port, address=arguments.host,
                                           backlog=arguments.backlog)
    if arguments.workers > 1:
        try:
            os.setpgid(0, 0)  # own process group, so killpg reaches only us
        except OSError:
            pass  # already a group (session) leader
        signal.signal(signal.SIGTERM, parent_sigterm)
        tornado.process.fork_processes(arguments.workers)
    # Leave at once, from the signal handler: the app runs on the IOLoop
    # thread, so a request spinning in Python (PythonWedge) would never let
    # the loop see a stop callback.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = HTTPServer(WSGIContainer(application))
    server.add_sockets(sockets)
    host, port = sockets[0].getsockname()[:2]
    sys.stdout.write("tornado %s serving on http://%s:%d (pid %d)\n"
                     % (tornado.version, host, port, os.getpid()))
    sys.stdout.flush()
    IOLoop.current().start()


if __name__ == "__main__":
    main()
