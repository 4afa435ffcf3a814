"""Serve labour_app with Rocket3, the threaded server of web2py and py4web.

usage: serve.py HOST PORT [--threads N] [--backlog N]

  --threads N  the pool's threads at start (Rocket3's min_threads, default
               10); max_threads stays 0, so the pool grows without bound
               while connections wait for a thread
  --backlog N  the listen queue length (Rocket3's queue_size, which it would
               cap at max_threads were that set)

One process: a listener thread queues accepted connections for the pool;
a monitor thread keeps idle keep-alive connections. Rocket3 stops on
SIGTERM itself.
"""

import argparse

from rocket3 import Rocket3

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
    parser.add_argument("--threads", type=positive_int, default=10)
    parser.add_argument("--backlog", type=positive_int, default=None)
    arguments = parser.parse_args()
    server = Rocket3(
        (arguments.host, arguments.port),
        "wsgi",
        {"wsgi_app": application},
        min_threads=arguments.threads,
        max_threads=0,
        queue_size=arguments.backlog,
    )
    print("Rocket3 serving on http://%s:%d (%d threads at start)"
          % (arguments.host, arguments.port, arguments.threads), flush=True)
    server.start()


if __name__ == "__main__":
    main()
