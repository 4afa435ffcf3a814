"""Serve labour_app with pyruvate, a WSGI server written in Rust.

usage: serve.py HOST PORT [--threads N] [--backlog N]

  --threads N  pyruvate's num_workers: the worker threads that run the app
               (required by pyruvate.serve, which has no default; 2 as in
               pyruvate's own examples)
  --backlog N  the listen queue length. pyruvate has no setting for it, so
               serve.py binds and listens itself and hands pyruvate the
               listening socket as systemd does (socket activation: fd 3,
               LISTEN_FDS=1, LISTEN_PID=this process, and None for the
               address). Without it pyruvate binds HOST:PORT itself.

Everything else keeps pyruvate's defaults. SIGTERM exits at once with
status 0 (without this the default action would end the process with 143:
a Python handler never runs while pyruvate.serve blocks in Rust).
"""

import argparse
import os
import signal
import socket
import threading

import pyruvate

from labour_app import application

# The first descriptor systemd passes (SD_LISTEN_FDS_START).
LISTEN_FDS_START = 3


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backlog", type=int, default=None)
    arguments = parser.parse_args()
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    if arguments.backlog is not None and arguments.backlog < 1:
        parser.error("--backlog must be at least 1")
    return arguments


def activated_socket(host, port, backlog):
    """Listen on HOST:PORT with BACKLOG, on descriptor 3, and say so in the
    environment as systemd's socket activation does."""
    listener = socket.create_server((host, port), backlog=backlog)
    if listener.fileno() != LISTEN_FDS_START:
        try:
            os.fstat(LISTEN_FDS_START)
        except OSError:
            pass  # free, as it should be
        else:
            raise SystemExit("serve.py: descriptor %d is taken; cannot hand pyruvate its socket"
                             % LISTEN_FDS_START)
        os.dup2(listener.fileno(), LISTEN_FDS_START)
        listener.close()
    else:
        listener.detach()  # descriptor 3 is pyruvate's now, not this object's
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())


def exit_on_sigterm():
    # SIGTERM is blocked in every thread (pyruvate's inherit the mask), so it
    # stays pending until this thread takes it with sigwait.
    signal.sigwait({signal.SIGTERM})
    os._exit(0)


def main():
    arguments = parse_arguments()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    threading.Thread(target=exit_on_sigterm, daemon=True).start()
    address = "%s:%d" % (arguments.host, arguments.port)
    if arguments.backlog is not None:
        activated_socket(arguments.host, arguments.port, arguments.backlog)
        address = None
    print("pyruvate serving on http://%s:%d with %d worker threads (backlog %s)"
          % (arguments.host, arguments.port, arguments.threads, arguments.backlog or "pyruvate's"),
          flush=True)
    pyruvate.serve(application, address, arguments.threads)


if __name__ == "__main__":
    main()
