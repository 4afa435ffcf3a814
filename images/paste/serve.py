"""Serve labour_app with paste.httpserver and its worker thread pool.

usage: serve.py HOST PORT [--threads N] [--max-requests N] [--worker-timeout S] [--backlog N]

  --threads N         worker threads in the pool (paste's threadpool_workers,
                      default 10)
  --max-requests N    requests a worker thread serves before it is replaced
                      by a new thread (paste's threadpool max_requests,
                      default 100; 0 = never)
  --worker-timeout S  seconds after which a busy ("hung") worker thread is
                      killed and replaced (paste's threadpool
                      kill_thread_limit, default 1800; 0 = never)
  --backlog N         the listen queue length (paste's request_queue_size,
                      default 5)

Everything else keeps paste's defaults. SIGTERM stops the server with exit
status 0 (paste shuts its thread pool down on the way out).
"""

import argparse
import signal
import sys

from paste import httpserver

from labour_app import application


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--threads", type=non_negative_int, default=10)
    parser.add_argument("--max-requests", type=non_negative_int, default=100)
    parser.add_argument("--worker-timeout", type=non_negative_int, default=1800)
    parser.add_argument("--backlog", type=non_negative_int, default=5)
    arguments = parser.parse_args()
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    if arguments.backlog < 1:
        parser.error("--backlog must be at least 1")
    return arguments


def main():
    arguments = parse_arguments()
    options = {
        "max_requests": arguments.max_requests,
        "kill_thread_limit": arguments.worker_timeout,
        # paste refuses a pool where spawn_if_under (default 5) exceeds the
        # number of threads, or where kill_thread_limit is below
        # hung_thread_limit (default 30): lower those two to fit.
        "spawn_if_under": min(5, arguments.threads),
    }
    if arguments.worker_timeout:
        options["hung_thread_limit"] = min(30, arguments.worker_timeout)
    # The main thread waits in select() with a 1 s timeout, so SystemExit
    # raised here unwinds paste's serve_forever, which shuts the pool down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    httpserver.serve(
        application,
        host=arguments.host,
        port=arguments.port,
        use_threadpool=True,
        threadpool_workers=arguments.threads,
        threadpool_options=options,
        request_queue_size=arguments.backlog,
    )


if __name__ == "__main__":
    main()
