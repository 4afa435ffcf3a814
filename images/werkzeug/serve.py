"""Serve labour_app with werkzeug's development server, as Flask's app.run does.

usage: serve.py HOST PORT [--workers N] [--backlog N]

  --workers N  fork a process per request, at most N at once (run_simple's
               processes=N; werkzeug then runs without threads)
  --backlog N  the listen queue length (BaseWSGIServer.request_queue_size,
               werkzeug's default 128)

Without --workers it runs as `flask run` and app.run() do by default:
threaded=True, a new thread for every request, unbounded. One process
either way; werkzeug logs every request to stderr. SIGTERM ends it (143).
"""

import argparse

from werkzeug import serving

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
    parser.add_argument("--workers", type=positive_int, default=None)
    parser.add_argument("--backlog", type=positive_int, default=None)
    arguments = parser.parse_args()
    if arguments.backlog is not None:
        # Read by server_activate (listen) for every server make_server makes.
        serving.BaseWSGIServer.request_queue_size = arguments.backlog
    forked = arguments.workers is not None and arguments.workers > 1
    serving.run_simple(
        arguments.host,
        arguments.port,
        application,
        threaded=not forked,
        processes=arguments.workers if forked else 1,
    )


if __name__ == "__main__":
    main()
