"""Serve labour_app with fastpysgi, a C server on libuv and llhttp.

usage: serve.py HOST PORT [--workers N] [--backlog N]

  --workers N  fork N worker processes, each with its own event loop and
               listening socket on HOST:PORT (fastpysgi's multi_run); the
               parent waits for them and replaces none. Default 1: the
               server runs in this process
  --backlog N  the listen queue length (server.backlog, fastpysgi's
               default 2048)

Each process calls the app from its one event-loop thread: one request at
a time per process. SIGTERM ends it (143).
"""

import argparse
import os

import fastpysgi

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
    parser.add_argument("--workers", type=positive_int, default=1)
    parser.add_argument("--backlog", type=positive_int, default=None)
    arguments = parser.parse_args()
    server = fastpysgi.server
    if arguments.backlog is not None:
        server.backlog = arguments.backlog
    print("fastpysgi %s serving on http://%s:%d (pid %d, %d worker(s))"
          % (fastpysgi.__version__, arguments.host, arguments.port, os.getpid(),
             arguments.workers), flush=True)
    fastpysgi.run(application, arguments.host, arguments.port, workers=arguments.workers)


if __name__ == "__main__":
    main()
