"""Serve labour_app with netius, a pure-Python asynchronous server.

usage: serve.py HOST PORT [--workers N] [--backlog N]

  --workers N  fork N children after listening, each running its own event
               loop on the shared socket (netius's `children`); the parent
               only waits. Default: no fork, the event loop in this process
  --backlog N  the listen queue length (serve's backlog, netius's default
               socket.SOMAXCONN)

netius.servers.WSGIServer calls the app from its event loop: one request
at a time per process. Logging at WARNING (netius logs every connection
at INFO). netius turns SIGTERM into SystemExit and stops its loop.
"""

import argparse
import logging

import netius.servers

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
    parser.add_argument("--workers", type=positive_int, default=0)
    parser.add_argument("--backlog", type=positive_int, default=None)
    arguments = parser.parse_args()
    server = netius.servers.WSGIServer(
        app=application, children=arguments.workers, level=logging.WARNING
    )
    print("netius serving on http://%s:%d (children: %d)"
          % (arguments.host, arguments.port, arguments.workers), flush=True)
    options = {} if arguments.backlog is None else {"backlog": arguments.backlog}
    server.serve(host=arguments.host, port=arguments.port, **options)


if __name__ == "__main__":
    main()
