"""labour's stress application: a WSGI app that misbehaves on request.

A request names a behaviour and its parameters (labour_asgi.py beside
this file is the native ASGI twin, with the same protocol):

    GET /<Behaviour>?<param>=<value>&...

Every response carries ``X-Labour-Worker: <pid>`` so the client can count
the worker processes that answered, and ``X-Labour-Python: <x.y.z>``, the
interpreter that ran the application. An unknown behaviour answers 404; an
unknown or malformed parameter answers 400 with a one-line reason.

Standard library only, one source for Python 2.7 (the seed's Python 2
servers) and Python 3.8 or newer, with the same answers on both: status
phrases from a table of our own, numbers read as ASCII, text sent as ASCII
with anything else backslash-escaped. The behaviours and their
parameters are described by ``BEHAVIOURS``; ``python3 labour_app.py
--describe`` prints them as JSON (labour's tests check that the Rust
catalogue agrees). ``python3 labour_app.py --wsgiref HOST:PORT [--backlog
N]`` serves the app with the standard library's reference server, with a
listen queue of N.

What a request may ask is bounded. ``IOBound`` reads only ``/dev/zero`` or
a file under the ``fixtures`` directory beside this file (a name relative
to it, or a path under it); anything else answers 400. The behaviours that
allocate (or hold descriptors) have upper bounds, ``BOUNDS``, the same as
labour's own (src/behaviour/mod.rs), unless a memory limit is in force:
labour says so in ``LABOUR_MEMORY_LIMIT`` (the limit in bytes), and the
limit, not the app, bounds them then.

The request log: when ``LABOUR_REQUEST_LOG`` names a file, every request
that carries ``X-Labour-Request: <id>`` (up to 16 hex digits, labour's
client sends one per request) appends ``S <id> <pid> <time>`` when it
reaches the application and ``F <id> <pid> <time>`` when the server is
done with its answer (took the whole body, or closed it; wall-clock
seconds). Each line is one
write(2) on a descriptor opened with O_APPEND, in the kernel before the
behaviour runs: a segfault or a SIGKILL of the worker cannot lose it.
labour reads the file after the cell and matches it with what its client
saw: where each lost request died.
"""

import os
import signal
import sys
import time

try:
    from urllib.parse import parse_qs

    # Query values as the bytes that came, one character per byte, as
    # Python 2's parse_qs gives them.
    _QUERY_ENCODING = {"encoding": "latin-1"}
except ImportError:  # Python 2: the query's bytes as they came already
    from urlparse import parse_qs

    _QUERY_ENCODING = {}

# time.perf_counter is Python 3's; time.time is Python 2's best clock.
_clock = getattr(time, "perf_counter", time.time)
PYTHON_VERSION = "%d.%d.%d" % tuple(sys.version_info[:3])

# Status phrases, the same on every interpreter (Python 3's http.HTTPStatus
# renames some between versions; Python 2 has none of it).
_PHRASES = {
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable",
    417: "Expectation Failed", 418: "I'm a Teapot", 421: "Misdirected Request",
    422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency", 425: "Too Early",
    426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}

# The only files IOBound reads: /dev/zero, and those under FIXTURES.
DEV_ZERO = "/dev/zero"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
# Set (to the limit in bytes) when a memory limit is in force.
MEMORY_LIMIT_ENV = "LABOUR_MEMORY_LIMIT"
# The most a request may ask of the behaviours that allocate or hold
# descriptors, unless a memory limit is in force. labour refuses more too
# (src/behaviour/mod.rs): keep both the same (a test compares them).
BOUNDS = {
    ("LeakMemory", "how_many"): 1 << 30,  # bytes kept per request: 1 GiB
    ("MemoryBalloon", "mb"): 16384,  # MiB held: 16 GiB
    ("BigResponse", "bytes"): 1 << 30,  # body: 1 GiB
    ("IOBound", "length"): 1 << 30,  # bytes read: 1 GiB
    ("FdLeak", "count"): 100000,  # descriptors kept per request
}

# Memory leaked by LeakMemory stays referenced here for the worker's life.
_LEAKED = []
# File descriptors leaked by FdLeak, likewise.
_LEAKED_FILES = []
# The body chunk TrickleResponse sends, one per interval.
TRICKLE_CHUNK = b"trickle\n"


# The request log (see the module's docstring).
REQUEST_LOG_ENV = "LABOUR_REQUEST_LOG"
REQUEST_ID_HEADER = "X-Labour-Request"
_HEX = frozenset("0123456789abcdef")
# This process's descriptor of the log, reopened after a fork.
_REQUEST_LOG = {"pid": None, "fd": None}


def request_id(text):
    """The request id of a header's value, or None when it is not one (up
    to 16 lowercase hex digits: nothing else reaches the log)."""
    if not text or len(text) > 16 or not _HEX.issuperset(text):
        return None
    return text


def log_request(mark, rid):
    """Append ``<mark> <rid> <pid> <time>`` to the request log, if there is
    one; a log that cannot be written is skipped (labour counts the
    requests it cannot match)."""
    path = os.environ.get(REQUEST_LOG_ENV)
    if not path or rid is None:
        return
    pid = os.getpid()
    try:
        if _REQUEST_LOG["pid"] != pid:
            _REQUEST_LOG["fd"] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            _REQUEST_LOG["pid"] = pid
        os.write(_REQUEST_LOG["fd"], ("%s %s %d %.6f\n" % (mark, rid, pid, time.time())).encode("ascii"))
    except OSError:
        _REQUEST_LOG["pid"] = None


def _finishing(iterable, rid):
    """A streamed body, logged as finished once the server is done with it:
    it took the last chunk, or closed the body (PEP 3333 has every server
    call close(); some stop asking once Content-Length bytes are sent)."""
    try:
        for chunk in iterable:
            yield chunk
    finally:
        log_request("F", rid)
        close = getattr(iterable, "close", None)
        if close is not None:
            close()


class BadParameter(Exception):
    """A request parameter is unknown or has no valid value."""


def _status_line(code):
    return "%d %s" % (code, _PHRASES.get(code, "Unknown"))


def _headers(length):
    return [
        ("Content-Type", "text/plain"),
        ("Content-Length", str(length)),
        ("X-Labour-Worker", str(os.getpid())),
        ("X-Labour-Python", PYTHON_VERSION),
    ]


def _encode(text):
    """Text as ASCII bytes, anything else backslash-escaped. Python 2's str
    (bytes) is read one character per byte, as Python 3's WSGI strings are."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return text.encode("ascii", "backslashreplace")


def _respond(start_response, code, body):
    body = _encode(body)
    start_response(_status_line(code), _headers(len(body)))
    return [body]


def plain_response(environ, start_response, length, status):
    """Answer at once: 'Pong!' or ``length`` bytes of 'X', with ``status``."""
    body = "Pong!\n" if length is None else "X" * length
    return _respond(start_response, status, body)


def sleeping(environ, start_response, sleep_duration):
    """Send the first half of the body, sleep, send the rest."""
    first, second = "Sleeping %r... " % sleep_duration, "and Pong!\n"
    start_response(_status_line(200), _headers(len(first) + len(second)))
    yield first.encode("ascii")
    time.sleep(sleep_duration)
    yield second.encode("ascii")


def _readable(filename):
    """The path IOBound may read for ``filename``: /dev/zero, or a file under
    FIXTURES (named relative to it, or by a path under it, symbolic links
    and '..' resolved first); ``None`` for anything else."""
    if filename == DEV_ZERO:
        return DEV_ZERO
    # The path's bytes as they came, on both Pythons.
    raw = filename if isinstance(filename, bytes) else filename.encode("latin-1")
    fixtures = FIXTURES if isinstance(FIXTURES, bytes) else FIXTURES.encode("utf-8")
    root = os.path.realpath(fixtures)
    path = os.path.realpath(os.path.join(root, raw))
    if not path.startswith(root + b"/"):
        return None
    return path


def io_bound(environ, start_response, filename, length):
    """Read ``length`` bytes of ``filename`` in blocks, then answer. Only
    /dev/zero and the files under FIXTURES: anything else is a 400."""
    path = _readable(filename)
    if path is None:
        return _respond(start_response, 400,
                        "IOBound: filename=%r is not %s or a file under the app's fixtures directory\n"
                        % (filename, DEV_ZERO))
    try:
        handle = open(path, "rb")
    except (IOError, OSError) as error:  # Python 2 raises IOError
        return _respond(start_response, 403, "%s: %s\n" % (filename, error.strerror))
    with handle:
        left = length
        while left > 0:
            block = handle.read(min(left, 65536))
            if not block:
                break
            left -= len(block)
    return _respond(start_response, 200, "Read %d bytes from %s. Pong!\n" % (length - left, filename))


def leak_memory(environ, start_response, how_many):
    """Keep ``how_many`` more bytes referenced for the life of the worker."""
    _LEAKED.append(b"X" * how_many)
    total = sum(len(chunk) for chunk in _LEAKED)
    return _respond(start_response, 200, "Leaked %d bytes (%d bytes total). Pong!\n" % (how_many, total))


def python_wedge(environ, start_response):
    """Spin forever in pure Python: only a watchdog gets this worker back."""
    while True:
        pass


def sigsegv(environ, start_response):
    """Send SIGSEGV to the worker's own process."""
    os.kill(os.getpid(), signal.SIGSEGV)
    # A process that ignores or survives the signal still must not answer 200.
    return _respond(start_response, 500, "Raised SIGSEGV and survived.\n")


def real_segfault(environ, start_response):
    """Read address 0 through ctypes: a real invalid memory access."""
    import ctypes

    ctypes.string_at(0)
    return _respond(start_response, 500, "Read address 0 and survived.\n")


def abort(environ, start_response):
    """os.abort(): SIGABRT, no cleanup."""
    os.abort()


def worker_exit(environ, start_response, exit_code):
    """os._exit(): the worker process ends at once, no cleanup."""
    os._exit(exit_code)


def self_kill(environ, start_response):
    """SIGKILL to the worker's own process: nothing can catch it."""
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(5)
    return _respond(start_response, 500, "Sent SIGKILL and survived.\n")


def raise_exception(environ, start_response):
    """An unhandled exception before start_response: the server owes a 500."""
    raise RuntimeError("labour: RaiseException raises on purpose")


def bad_status(environ, start_response, mode):
    """Misuse start_response: an invalid status line (mode=invalid), or a
    second call without exc_info (mode=twice). A conforming server answers 500."""
    body = b"Pong!\n"
    if mode == "invalid":
        start_response("two hundred OK", _headers(len(body)))
    else:
        start_response("200 OK", _headers(len(body)))
        start_response("200 OK", _headers(len(body)))
    return [body]


def cpu_burn(environ, start_response, ms):
    """Spin in a pure-Python loop for ms milliseconds, then answer."""
    deadline = _clock() + ms / 1000.0
    spins = 0
    while _clock() < deadline:
        spins += 1
    return _respond(start_response, 200, "Burned %d ms (%d spins). Pong!\n" % (ms, spins))


def gil_wedge(environ, start_response, seconds):
    """Sleep in C while holding the GIL: no other thread of this process runs
    meanwhile. One nanosleep call through ctypes.PyDLL, which keeps the GIL."""
    import ctypes

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    whole = int(seconds)
    request = Timespec(whole, int((seconds - whole) * 1e9))
    ctypes.PyDLL(None).nanosleep(ctypes.byref(request), None)
    return _respond(start_response, 200, "Held the GIL for %r s. Pong!\n" % seconds)


def headers_then_wedge(environ, start_response):
    """Send the headers and the start of the body, then spin forever."""
    first = b"Wedging after the headers...\n"
    start_response(_status_line(200), _headers(len(first) + 1000))
    yield first
    while True:
        pass


def trickle_response(environ, start_response, chunks, interval):
    """A slow streamed body: chunks pieces, interval seconds apart."""
    start_response(_status_line(200), _headers(len(TRICKLE_CHUNK) * chunks))
    for index in range(chunks):
        if index:
            time.sleep(interval)
        yield TRICKLE_CHUNK


def big_response(environ, start_response, bytes):  # noqa: A002 (the protocol's name)
    """A body of bytes bytes, sent in 64 KiB blocks."""
    start_response(_status_line(200), _headers(bytes))
    block = b"X" * 65536
    left = bytes
    while left > 0:
        yield block[: min(left, len(block))]
        left -= len(block)


def echo_upload(environ, start_response, bytes):  # noqa: A002 (the protocol's name)
    """Read the whole POST body and answer how many bytes arrived."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    received = 0
    while received < length:
        block = stream.read(min(length - received, 65536))
        if not block:
            break
        received += len(block)
    if received != bytes:
        return _respond(start_response, 400, "Received %d bytes, expected %d\n" % (received, bytes))
    return _respond(start_response, 200, "Received %d bytes\n" % received)


def truncated_response(environ, start_response):
    """Headers and part of the body, then the worker dies."""
    start_response(_status_line(200), _headers(1000))
    yield b"X" * 100
    os._exit(1)


def fd_leak(environ, start_response, count):
    """Open count more files and keep them for the life of the worker."""
    for _ in range(count):
        _LEAKED_FILES.append(open(os.devnull, "rb"))
    return _respond(start_response, 200, "Leaked %d descriptors (%d total). Pong!\n" % (count, len(_LEAKED_FILES)))


def loop_block(environ, start_response, seconds):
    """time.sleep(seconds), then answer: under WSGI it blocks the request's
    thread (or greenlet, where time is patched), as any blocking call does.
    The ASGI twin makes the same call inside a coroutine, where it blocks
    the whole event loop."""
    time.sleep(seconds)
    return _respond(start_response, 200, "Blocked for %r s. Pong!\n" % seconds)


def never_finish(environ, start_response):
    """Never answer: wait forever on an event nobody sets, using no CPU (a
    request stuck on a lock or a peer that never replies)."""
    import threading

    forever = threading.Event()
    while True:
        forever.wait(3600)


def raise_after_start(environ, start_response):
    """Send the headers and part of the body, then raise: the server can
    only end the connection early so the client sees the body is short."""
    start_response(_status_line(200), _headers(1000))
    yield b"X" * 100
    raise RuntimeError("labour: RaiseAfterStart raises on purpose")


def memory_balloon(environ, start_response, mb):
    """Hold mb MiB (every page touched) for the length of the request."""
    balloon = b"X" * (mb << 20)
    size = len(balloon)
    del balloon
    return _respond(start_response, 200, "Held %d MiB. Pong!\n" % (size >> 20))


def _number(text):
    """The text of a number in ASCII, as both Pythons read it: Python 3 also
    takes underscores and other scripts' digits, Python 2 does not."""
    if "_" in text or any(ord(c) > 127 for c in text):
        raise ValueError("not an ASCII number")
    return text


def _non_negative_int(text):
    value = int(_number(text))
    if value < 0:
        raise ValueError("negative")
    return value


def _non_negative_float(text):
    value = float(_number(text))
    if not value >= 0 or value == float("inf"):
        raise ValueError("not a finite non-negative number")
    return value


def _exit_code(text):
    value = int(_number(text))
    if not 0 <= value <= 255:
        raise ValueError("not an exit code")
    return value


def _bad_status_mode(text):
    if text not in ("invalid", "twice"):
        raise ValueError("not invalid or twice")
    return text


def _http_status(text):
    value = int(_number(text))
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
    "RealSegfault": (real_segfault, {}),
    "Abort": (abort, {}),
    "WorkerExit": (worker_exit, {
        "exit_code": (_exit_code, "exit code", 1),
    }),
    "SelfKill": (self_kill, {}),
    "RaiseException": (raise_exception, {}),
    "BadStatus": (bad_status, {
        "mode": (_bad_status_mode, "invalid|twice", "invalid"),
    }),
    "CpuBurn": (cpu_burn, {
        "ms": (_non_negative_int, "milliseconds", 100),
    }),
    "GilWedge": (gil_wedge, {
        "seconds": (_non_negative_float, "seconds", 1.0),
    }),
    "HeadersThenWedge": (headers_then_wedge, {}),
    "TrickleResponse": (trickle_response, {
        "chunks": (_non_negative_int, "integer", 10),
        "interval": (_non_negative_float, "seconds", 0.1),
    }),
    "BigResponse": (big_response, {
        "bytes": (_non_negative_int, "integer", 10 << 20),
    }),
    "EchoUpload": (echo_upload, {
        "bytes": (_non_negative_int, "integer", 1 << 20),
    }),
    "TruncatedResponse": (truncated_response, {}),
    "FdLeak": (fd_leak, {
        "count": (_non_negative_int, "integer", 10),
    }),
    "MemoryBalloon": (memory_balloon, {
        "mb": (_non_negative_int, "MiB", 64),
    }),
    "LoopBlock": (loop_block, {
        "seconds": (_non_negative_float, "seconds", 1.0),
    }),
    "NeverFinish": (never_finish, {}),
    "RaiseAfterStart": (raise_after_start, {}),
}

# The behaviours only the ASGI twin (labour_asgi.py) has, with why: this
# app answers them 404 with that reason, and labour skips a test that asks
# for one on a WSGI server (src/behaviour/mod.rs marks them the same).
ASGI_ONLY = {
    "AsyncSleep": "a WSGI application cannot await: it has no event loop (LoopBlock is the blocking sleep both have)",
}


def memory_limit():
    """The memory limit in force, in bytes, as labour says it
    (LABOUR_MEMORY_LIMIT); ``None`` when there is none (or it is not a
    positive number)."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "")
    try:
        value = int(_number(text))
    except ValueError:
        return None
    return value if value > 0 else None


def _parse_parameters(name, query, spec):
    values = {param: default for param, (_, _, default) in spec.items()}
    for param, texts in parse_qs(query, keep_blank_values=True, **_QUERY_ENCODING).items():
        if param not in spec:
            raise BadParameter("%s has no parameter %r" % (name, param))
        parser, type_name, _ = spec[param]
        try:
            values[param] = parser(texts[-1])
        except ValueError:
            raise BadParameter("%s: %s=%r is not a valid %s" % (name, param, texts[-1], type_name))
    bounded = [(param, BOUNDS[name, param]) for param in sorted(values) if (name, param) in BOUNDS]
    if bounded and memory_limit() is None:
        for param, bound in bounded:
            if values[param] is not None and values[param] > bound:
                raise BadParameter("%s: %s=%d is above %d, the most without a memory limit (%s)"
                                   % (name, param, values[param], bound, MEMORY_LIMIT_ENV))
    return values


def application(environ, start_response):
    """The WSGI entry point: dispatch to the behaviour named by the path,
    each request logged (see the module's docstring)."""
    return _logged(_dispatch, environ, start_response)


def _logged(app, environ, start_response):
    """Call WSGI ``app``, the request logged as started and, once its whole
    answer is made, as finished."""
    rid = request_id(environ.get("HTTP_X_LABOUR_REQUEST"))
    log_request("S", rid)
    result = app(environ, start_response)
    if isinstance(result, list):
        log_request("F", rid)
        return result
    return _finishing(result, rid)


def _dispatch(environ, start_response):
    name = environ.get("PATH_INFO", "").strip("/").split("/")[0] or "PlainResponse"
    if name in ASGI_ONLY:
        return _respond(start_response, 404, "%s is ASGI only: %s\n" % (name, ASGI_ONLY[name]))
    if name not in BEHAVIOURS:
        return _respond(start_response, 404, "Unknown behaviour %r\n" % name)
    function, spec = BEHAVIOURS[name]
    try:
        parameters = _parse_parameters(name, environ.get("QUERY_STRING", ""), spec)
    except BadParameter as error:
        return _respond(start_response, 400, "%s\n" % error)
    return function(environ, start_response, **parameters)


# Where labour's middleware answers in a user's application (labour's
# BEHAVIOUR_PREFIX, src/plan/target.rs): /_labour/<Behaviour>?<params>.
LABOUR_PREFIX = "/_labour/"


def wrap(user_app, prefix=LABOUR_PREFIX):
    """labour's middleware: ``user_app`` (a WSGI callable) with labour's
    behaviours under ``prefix``. A request for ``/_labour/SIGSEGV`` runs
    ``application`` (this module's behaviours, in this worker) as if it had
    asked for ``/SIGSEGV``; every other request goes to ``user_app``
    untouched, logged in the request log as labour's own are."""

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix):
            # Logged as labour's own requests are: the funnel counts both.
            return _logged(user_app, environ, start_response)
        inner = dict(environ)
        inner["PATH_INFO"] = path[len(prefix) - 1:]
        inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix.rstrip("/")
        return application(inner, start_response)

    return wrapped


def describe(behaviours=None):
    """The behaviours (``BEHAVIOURS``, or the table given: the ASGI twin's)
    and their parameters, as plain data; a bounded parameter also has its
    ``max`` (without a memory limit)."""
    described = {}
    for name, (_, spec) in (behaviours or BEHAVIOURS).items():
        described[name] = {}
        for param, (_, type_name, default) in spec.items():
            entry = {"type": type_name, "default": default}
            if (name, param) in BOUNDS:
                entry["max"] = BOUNDS[name, param]
            described[name][param] = entry
    return described


def serve_wsgiref(address, backlog=None):
    """Serve with wsgiref.simple_server: one process, one thread, with a
    listen queue of ``backlog`` (socketserver's 5 when ``None``)."""
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class QueueServer(WSGIServer):
        # socketserver listens with this when the server is made.
        request_queue_size = backlog or WSGIServer.request_queue_size

    host, _, port = address.rpartition(":")
    server = make_server(host, int(port), application, server_class=QueueServer,
                         handler_class=QuietHandler)
    # SIGTERM: finish the request in hand, then exit 0. (Raising SystemExit
    # from the handler instead would be swallowed by wsgiref's handler when
    # it lands inside a request, and the server would keep serving.)
    def stop(*_):
        import threading
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    sys.stdout.write("wsgiref serving on http://%s:%s (Python %s)\n" % (host, port, PYTHON_VERSION))
    sys.stdout.flush()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--describe", action="store_true", help="print the behaviours as JSON")
    group.add_argument("--wsgiref", metavar="HOST:PORT", help="serve with wsgiref")
    parser.add_argument("--backlog", metavar="N", type=int,
                        help="with --wsgiref: the listen queue length (socketserver's 5 without it)")
    arguments = parser.parse_args()
    if arguments.backlog is not None and (arguments.backlog < 1 or not arguments.wsgiref):
        parser.error("--backlog takes a number of at least 1, with --wsgiref")
    if arguments.describe:
        print(json.dumps(describe(), indent=2, sort_keys=True, separators=(",", ": ")))
    else:
        serve_wsgiref(arguments.wsgiref, arguments.backlog)
