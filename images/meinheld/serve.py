"""Serve labour's stress app with meinheld: serve.py HOST PORT."""

import sys

from meinheld import server

from labour_app import application


def main():
    host, port = sys.argv[1], int(sys.argv[2])
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
