"""labour's stress application: a WSGI app that misbehaves on request.

A request names a behaviour and its parameters:

    GET /<Behaviour>?<param>=<value>&...

Every response carries ``X-Labour-Worker: <pid>`` so the client can count
the worker processes that answered. An unknown behaviour answers 404; an
unknown or malformed parameter answers 400 with a one-line reason.

Standard library only, Python 3.8 or newer. The behaviours and their
parameters are described by ``BEHAVIOURS``; ``python3 labour_app.py
--describe`` prints them as JSON (labour's tests check that the Rust
catalogue agrees). ``python3 labour_app.py --wsgiref HOST:PORT`` serves the
app with the standard library's reference server.
"""

import http
import os
import signal
import sys
import time
from urllib.parse import parse_qs

# Memory leaked by LeakMemory stays referenced here for the worker's life.
_LEAKED = []


class BadParameter(Exception):
    """A request parameter is unknown or has no valid value."""


def _status_line(code):
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "Unknown"
    return "%d %s" % (code, phrase)


def _headers(length):
    return [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(length)),
        ("X-Labour-Worker", str(os.getpid())),
    ]


def _respond(start_response, code, body):
    body = body.encode("ascii")
    start_response(_status_line(code), _headers(len(body)))
    return [body]


def plain_response(start_response, length, status):
    """Answer at once: 'Pong!' or ``length`` bytes of 'X', with ``status``."""
    body = "Pong!\n" if length is None else "X" * length
    return _respond(start_response, status, body)


def sleeping(start_response, sleep_duration):
    """Send the first half of the body, sleep, send the rest."""
    first, second = "Sleeping %s... " % sleep_duration, "and Pong!\n"
    start_response(_status_line(200), _headers(len(first) + len(second)))
    yield first.encode("ascii")
    time.sleep(sleep_duration)
    yield second.encode("ascii")


def io_bound(start_response, filename, length):
    """Read ``length`` bytes of ``filename`` in blocks, then answer."""
    try:
        handle = open(filename, "rb")
    except OSError as error:
        return _respond(start_response, 403, "%s: %s\n" % (filename, error.strerror))
    with handle:
        left = length
        while left > 0:
            block = handle.read(min(left, 65536))
            if not block:
                break
            left -= len(block)
    return _respond(start_response, 200, "Read %d bytes from %s. Pong!\n" % (length - left, filename))


def leak_memory(start_response, how_many):
    """Keep ``how_many`` more bytes referenced for the life of the worker."""
    _LEAKED.append(b"X" * how_many)
    total = sum(len(chunk) for chunk in _LEAKED)
    return _respond(start_response, 200, "Leaked %d bytes (%d bytes total). Pong!\n" % (how_many, total))


def python_wedge(start_response):
    """Spin forever in pure Python: only a watchdog gets this worker back."""
    while True:
        pass


def sigsegv(start_response):
    """Send SIGSEGV to the worker's own process."""
    os.kill(os.getpid(), signal.SIGSEGV)
    # A process that ignores or survives the signal still must not answer 200.
    return _respond(start_response, 500, "Raised SIGSEGV and survived.\n")


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise ValueError("negative")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("not a finite non-negative number")
    return value


def _http_status(text):
    value = int(text)
    if not 200 <= value <= 599 or value in (204, 304):
        raise ValueError("not a status that carries a body")
    return value


# name -> (function, {parameter: (parser, type name, default)})
BEHAVIOURS = {
    "PlainResponse": (plain_response, {
        "length": (_non_negative_int, "integer", None),
        "status": (_http_status, "status", 200),
    }),
    "Sleeping": (sleeping, {
        "sleep_duration": (_non_negative_float, "seconds", 1.0),
    }),
    "IOBound": (io_bound, {
        "filename": (str, "path", "/dev/zero"),
        "length": (_non_negative_int, "integer", 1 << 20),
    }),
    "LeakMemory": (leak_memory, {
        "how_many": (_non_negative_int, "integer", 1024),
    }),
    "PythonWedge": (python_wedge, {}),
    "SIGSEGV": (sigsegv, {}),
}


def _parse_parameters(name, query, spec):
    values = {param: default for param, (_, _, default) in spec.items()}
    for param, texts in parse_qs(query, keep_blank_values=True).items():
        if param not in spec:
            raise BadParameter("%s has no parameter %r" % (name, param))
        parser, type_name, _ = spec[param]
        try:
            values[param] = parser(texts[-1])
        except ValueError:
            raise BadParameter("%s: %s=%r is not a valid %s" % (name, param, texts[-1], type_name))
    return values


def application(environ, start_response):
    """The WSGI entry point: dispatch to the behaviour named by the path."""
    name = environ.get("PATH_INFO", "").strip("/").split("/")[0] or "PlainResponse"
    if name not in BEHAVIOURS:
        return _respond(start_response, 404, "Unknown behaviour %r\n" % name)
    function, spec = BEHAVIOURS[name]
    try:
        parameters = _parse_parameters(name, environ.get("QUERY_STRING", ""), spec)
    except BadParameter as error:
        return _respond(start_response, 400, "%s\n" % error)
    return function(start_response, **parameters)


def describe():
    """The behaviours and their parameters, as plain data."""
    return {
        name: {param: {"type": type_name, "default": default}
               for param, (_, type_name, default) in spec.items()}
        for name, (_, spec) in BEHAVIOURS.items()
    }


def serve_wsgiref(address):
    """Serve with wsgiref.simple_server: one process, one thread."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    host, _, port = address.rpartition(":")
    server = make_server(host, int(port), application, handler_class=QuietHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("wsgiref serving on http://%s:%s" % (host, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--describe", action="store_true", help="print the behaviours as JSON")
    group.add_argument("--wsgiref", metavar="HOST:PORT", help="serve with wsgiref")
    arguments = parser.parse_args()
    if arguments.describe:
        print(json.dumps(describe(), indent=2, sort_keys=True))
    else:
        serve_wsgiref(arguments.wsgiref)
