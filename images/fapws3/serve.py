"""Serve labour_app with fapws3, as its README's four steps say.

usage: serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length: fapws3 listens with a backlog of
               1024 compiled in (BACKLOG in _evwsgi.c), so only 1024 is
               taken

1. evwsgi.start(host, port) binds and listens, with set_base_module(base),
   the environ and start_response that fapws3 ships; 2. the WSGI callable;
3. wsgi_cb links a path prefix ("": every path, all of it as PATH_INFO) to
it; 4. run() enters libev's loop. One process, one thread: the app runs
on the event loop, one request at a time. fapws3 catches SIGINT and SIGTERM
itself and leaves its loop.
"""

import argparse
import sys

import fapws._evwsgi as evwsgi
from fapws import base

from labour_app import application

# fapws3's listen(2) backlog (BACKLOG in _evwsgi.c).
FAPWS_BACKLOG = 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=int, default=FAPWS_BACKLOG)
    arguments = parser.parse_args()
    if arguments.backlog != FAPWS_BACKLOG:
        parser.error("fapws3 listens with its compiled-in backlog of %d" % FAPWS_BACKLOG)
    evwsgi.start(arguments.host, str(arguments.port))
    evwsgi.set_base_module(base)
    evwsgi.wsgi_cb(("", application))
    evwsgi.set_debug(0)
    sys.stdout.write("fapws3 serving on http://%s:%d\n" % (arguments.host, arguments.port))
    sys.stdout.flush()
    evwsgi.run()


if __name__ == "__main__":
    main()
