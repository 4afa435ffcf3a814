"""Serve labour's stress app with meinheld: serve.py HOST PORT [--backlog N].

  --backlog N  the listen queue length (meinheld's set_backlog, 4096
               without it)
"""

import argparse

from meinheld import server

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
    parser.add_argument("--backlog", type=positive_int)
    arguments = parser.parse_args()
    host, port = arguments.host, arguments.port
    if arguments.backlog is not None:
        # listen() reads it: set it first.
        server.set_backlog(arguments.backlog)
    server.listen((host, port))
    print("meinheld serving on http://%s:%d" % (host, port), flush=True)
    # meinheld catches SIGTERM and SIGINT itself: its loop stops and run()
    # returns (SIGINT then raises KeyboardInterrupt).
    try:
        server.run(application)
    except KeyboardInterrupt:
        pass
    print("meinheld stopped", flush=True)


if __name__ == "__main__":
    main()
