"""Serve labour_app with tornado: WSGIContainer behind tornado's HTTPServer.

usage: serve.py HOST PORT [--workers N] [--threads N] [--backlog N]

  --workers N  fork N worker processes with tornado.process.fork_processes,
               which restarts a child that dies abnormally (default 1: no fork)
  --threads N  run the WSGI app on a ThreadPoolExecutor of N threads in each
               process; without it tornado runs the app on the IOLoop thread,
               one request at a time (tornado's own default)
  --backlog N  the listen queue length (bind_sockets' backlog, tornado's 128
               without it)

SIGTERM stops the server and exits with status 0 (with --workers > 1 the
parent passes SIGTERM on to the children and exits after them).
"""

import argparse
import asyncio
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import tornado.netutil
import tornado.process
from tornado.httpserver import HTTPServer
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
    parser.add_argument("--threads", type=positive_int, default=None)
    parser.add_argument("--backlog", type=positive_int, default=None)
    return parser.parse_args()


def parent_sigterm(signum, frame):
    # Ignore further SIGTERMs here and send one to the whole process group,
    # i.e. to the children. They exit with status 0, so fork_processes does
    # not restart them and, once all are gone, calls sys.exit(0) itself.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)


async def serve(sockets, threads):
    executor = ThreadPoolExecutor(threads) if threads else None
    server = HTTPServer(WSGIContainer(application, executor=executor))
    server.add_sockets(sockets)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    host, port = sockets[0].getsockname()[:2]
    print("tornado %s serving on http://%s:%d (pid %d, threads %s)"
          % (tornado.version, host, port, os.getpid(), threads or "none"), flush=True)
    await stop.wait()
    server.stop()


def main():
    arguments = parse_arguments()
    # Bind before forking so that every child accepts on the same sockets.
    options = {} if arguments.backlog is None else {"backlog": arguments.backlog}
    sockets = tornado.netutil.bind_sockets(arguments.port, address=arguments.host, **options)
    if arguments.workers > 1:
        try:
            os.setpgid(0, 0)  # own process group, so killpg reaches only us
        except OSError:
            pass  # already a group (session) leader
        signal.signal(signal.SIGTERM, parent_sigterm)
        tornado.process.fork_processes(arguments.workers)
        # Only children get here. Until the IOLoop installs its handler, a
        # SIGTERM must still end this child with status 0.
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    asyncio.run(serve(sockets, arguments.threads))
    # Leave at once: a thread stuck in the app (PythonWedge, a long sleep)
    # would otherwise keep the process alive at interpreter exit.
    os._exit(0)


if __name__ == "__main__":
    main()
