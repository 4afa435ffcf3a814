"""Serve labour_app with pyruvate, a WSGI server written in Rust.

usage: serve.py HOST PORT [--threads N]

  --threads N  pyruvate's num_workers: the worker threads that run the app
               (required by pyruvate.serve, which has no default; 2 as in
               pyruvate's own examples)

Everything else keeps pyruvate's defaults. SIGTERM exits at once with
status 0 (without this the default action would end the process with 143:
a Python handler never runs while pyruvate.serve blocks in Rust).
"""

import argparse
import os
import signal
import threading

import pyruvate

from labour_app import application


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    return arguments


def exit_on_sigterm():
    # SIGTERM is blocked in every thread (pyruvate's inherit the mask), so it
    # stays pending until this thread takes it with sigwait.
    signal.sigwait({signal.SIGTERM})
    os._exit(0)


def main():
    arguments = parse_arguments()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    threading.Thread(target=exit_on_sigterm, daemon=True).start()
    print("pyruvate serving on http://%s:%d with %d worker threads"
          % (arguments.host, arguments.port, arguments.threads), flush=True)
    pyruvate.serve(application, "%s:%d" % (arguments.host, arguments.port), arguments.threads)


if __name__ == "__main__":
    main()
