"""Serve labour's stress app with bjoern: serve.py HOST PORT."""

import os
import signal
import sys
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


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # bjoern's loop runs Python signal handlers from a periodic check (0.1 s).
    signal.signal(signal.SIGTERM, on_sigterm)
    print("bjoern serving on http://%s:%d" % (host, port), flush=True)
    try:
        bjoern.run(application, host, port)
    except KeyboardInterrupt:
        pass
    print("bjoern stopped", flush=True)


if __name__ == "__main__":
    main()
