"""Serve labour_app with cogen's WSGI server, as its paste server factory does.

usage: serve.py HOST PORT [--backlog N]

  --backlog N  the listen queue length (cogen's request_queue_size,
               default 1024)

cogen (2008-2009) runs coroutines made of Python 2 generators on a scheduler
over the best poller there is (epoll here). cogen.web.wsgi.Runner is what
its documented paste entry point (`use = egg:cogen#wsgi`) starts: the
scheduler with its defaults and the WSGIServer with request_queue_size, a
15 s socket operation timeout and a 300 s sendfile timeout. A plain WSGI
app (not one yielding cogen operations) runs on the scheduler's one thread,
one request at a time. SIGTERM ends the server with status 0.
"""

import argparse
import os
import signal
import sys

from cogen.web.wsgi import Runner

from labour_app import application


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=int, default=1024)
    arguments = parser.parse_args()
    runner = Runner(arguments.host, arguments.port, application,
                    {"request_queue_size": arguments.backlog})
    # Leave at once: the scheduler's loop may be inside the app (PythonWedge).
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.stdout.write("cogen serving on http://%s:%d (%s)\n"
                     % (arguments.host, arguments.port,
                        runner.sched.proactor.__class__.__name__))
    sys.stdout.flush()
    runner.run()


if __name__ == "__main__":
    main()
