"""Serve labour's stress app with bjoern: serve.py HOST PORT [--backlog N].

  --backlog N  the listen queue length (bjoern's listen_backlog, 1024
               without it)
"""

import argparse
import os
import signal
import threading

import bjoern

from labour_app import application

# Seconds that open connections get to finish after SIGTERM. bjoern has no
# keep-alive timeout, so an idle client would otherwise hold the exit forever.
GRACE = 5.0


def on_sigterm(signum, frame):
    # Without this handler SIGTERM kills bjoern outright (exit 143). bjoern
    # stops cleanly only on SIGINT: its libev watcher stops accepting, lets
    # the open connections finish, then bjoern.run raises KeyboardInterrupt.
    # So turn SIGTERM into that SIGINT, and exit anyway after GRACE seconds.
    os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(GRACE, give_up)
    timer.daemon = True
    timer.start()


def give_up():
    print("bjoern: connections still open after %gs, exiting" % GRACE, flush=True)
    os._exit(0)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--backlog", type=positive_int, default=bjoern.DEFAULT_LISTEN_BACKLOG)
    arguments = parser.parse_args()
    host, port = arguments.host, arguments.port
    # bjoern's loop runs Python signal handlers from a periodic check (0.1 s).
    signal.signal(signal.SIGTERM, on_sigterm)
    print("bjoern serving on http://%s:%d" % (host, port), flush=True)
    try:
        bjoern.run(application, host, port, listen_backlog=arguments.backlog)
    except KeyboardInterrupt:
        pass
    print("bjoern stopped", flush=True)


if __name__ == "__main__":
    main()
