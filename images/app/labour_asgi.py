"""labour's stress application for ASGI servers: the native async twin of
labour_app.py.

The same protocol as the WSGI app: a request names a behaviour and its
parameters (``GET /<Behaviour>?<param>=<value>&...``), every response
carries ``X-Labour-Worker: <pid>`` and ``X-Labour-Python: <x.y.z>``, an
unknown behaviour answers 404 and an unknown or malformed parameter 400
with a one-line reason. The names, parameters, defaults, bounds and
answers are the WSGI app's (its parsing, bounds and texts are reused from
labour_app.py); ``python3 labour_asgi.py --describe`` prints them as JSON,
and labour's tests check that the Rust catalogue agrees.

Written against the ASGI 3 interface directly, with no WSGI-to-ASGI
adapter: an adapter runs the application in a thread pool, which would
hide exactly what an async application does to its server. Every
behaviour runs on the event loop. What the WSGI app does with a blocking
call, this app does the way async code does it: ``Sleeping`` and
``TrickleResponse`` await ``asyncio.sleep``; the CPU-bound and wedging
behaviours (``CpuBurn``, ``PythonWedge``, ``GilWedge``,
``HeadersThenWedge``) and ``LoopBlock`` (``time.sleep`` inside a
coroutine) block the loop, and with it every connection of the worker.
``AsyncSleep`` is the same sleep awaited: the pair shows what one blocking
call costs. ``IOBound`` reads its file on the loop, as asyncio has no file
I/O of its own.

Lifespan: the app answers ``lifespan.startup`` with
``lifespan.startup.complete``, or with ``lifespan.startup.failed`` when
``LABOUR_LIFESPAN_FAIL`` is set to a non-empty value (the message names
the variable): a server should then refuse to start.

Requests are logged as the WSGI app logs them (``LABOUR_REQUEST_LOG``,
``X-Labour-Request``): started when the app is called, finished when its
last body message has been sent.

Python 3.8 or newer, standard library only.
"""

import asyncio
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labour_app  # noqa: E402  (beside this file)
from labour_app import (  # noqa: E402
    TRICKLE_CHUNK,
    BadParameter,
    _encode,
    _parse_parameters,
    _readable,
    log_request,
    request_id,
)

# Set to a non-empty value: the lifespan startup fails.
LIFESPAN_FAIL_ENV = "LABOUR_LIFESPAN_FAIL"
PYTHON_VERSION = labour_app.PYTHON_VERSION

# Memory leaked by LeakMemory and descriptors by FdLeak: the WSGI app's
# lists, so one process that imports both keeps one account.
_LEAKED = labour_app._LEAKED
_LEAKED_FILES = labour_app._LEAKED_FILES
# Tasks NeverFinish left waiting, kept referenced so none is collected.
_WAITING = []


def _headers(length):
    return [
        (b"content-type", b"text/plain"),
        (b"content-length", str(length).encode("ascii")),
        (b"x-labour-worker", str(os.getpid()).encode("ascii")),
        (b"x-labour-python", PYTHON_VERSION.encode("ascii")),
    ]


async def _start(send, code, length):
    await send({"type": "http.response.start", "status": code, "headers": _headers(length)})


async def _respond(send, code, text):
    body = _encode(text)
    await _start(send, code, len(body))
    await send({"type": "http.response.body", "body": body})


async def plain_response(scope, receive, send, length, status):
    """Answer at once: 'Pong!' or ``length`` bytes of 'X', with ``status``."""
    await _respond(send, status, "Pong!\n" if length is None else "X" * length)


async def sleeping(scope, receive, send, sleep_duration):
    """Send the first half of the body, await asyncio.sleep, send the rest."""
    first, second = "Sleeping %r... " % sleep_duration, "and Pong!\n"
    await _start(send, 200, len(first) + len(second))
    await send({"type": "http.response.body", "body": first.encode("ascii"), "more_body": True})
    await asyncio.sleep(sleep_duration)
    await send({"type": "http.response.body", "body": second.encode("ascii")})


async def io_bound(scope, receive, send, filename, length):
    """Read ``length`` bytes of ``filename`` on the loop, then answer. Only
    /dev/zero and the files under the fixtures: anything else is a 400."""
    path = _readable(filename)
    if path is None:
        await _respond(send, 400,
                       "IOBound: filename=%r is not %s or a file under the app's fixtures directory\n"
                       % (filename, labour_app.DEV_ZERO))
        return
    try:
        handle = open(path, "rb")
    except OSError as error:
        await _respond(send, 403, "%s: %s\n" % (filename, error.strerror))
        return
    with handle:
        left = length
        while left > 0:
            block = handle.read(min(left, 65536))
            if not block:
                break
            left -= len(block)
    await _respond(send, 200, "Read %d bytes from %s. Pong!\n" % (length - left, filename))


async def leak_memory(scope, receive, send, how_many):
    """Keep ``how_many`` more bytes referenced for the life of the worker."""
    _LEAKED.append(b"X" * how_many)
    total = sum(len(chunk) for chunk in _LEAKED)
    await _respond(send, 200, "Leaked %d bytes (%d bytes total). Pong!\n" % (how_many, total))


async def python_wedge(scope, receive, send):
    """Spin forever in pure Python inside the coroutine: the loop never runs
    again; only a watchdog gets this worker back."""
    while True:
        pass


async def sigsegv(scope, receive, send):
    """Send SIGSEGV to the worker's own process."""
    os.kill(os.getpid(), signal.SIGSEGV)
    await _respond(send, 500, "Raised SIGSEGV and survived.\n")


async def real_segfault(scope, receive, send):
    """Read address 0 through ctypes: a real invalid memory access."""
    import ctypes

    ctypes.string_at(0)
    await _respond(send, 500, "Read address 0 and survived.\n")


async def abort(scope, receive, send):
    """os.abort(): SIGABRT, no cleanup."""
    os.abort()


async def worker_exit(scope, receive, send, exit_code):
    """os._exit(): the worker process ends at once, no cleanup."""
    os._exit(exit_code)


async def self_kill(scope, receive, send):
    """SIGKILL to the worker's own process: nothing can catch it."""
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(5)
    await _respond(send, 500, "Sent SIGKILL and survived.\n")


async def raise_exception(scope, receive, send):
    """An unhandled exception before the response starts: the server owes a 500."""
    raise RuntimeError("labour: RaiseException raises on purpose")


async def bad_status(scope, receive, send, mode):
    """Misuse the response messages: a status that is not a number
    (mode=invalid), or http.response.start twice (mode=twice). A server
    that holds the start until the body can still answer 500."""
    body = b"Pong!\n"
    if mode == "invalid":
        await send({"type": "http.response.start", "status": "two hundred OK", "headers": _headers(len(body))})
    else:
        await _start(send, 200, len(body))
        await _start(send, 200, len(body))
    await send({"type": "http.response.body", "body": body})


async def cpu_burn(scope, receive, send, ms):
    """Spin in a pure-Python loop for ms milliseconds on the loop, then answer."""
    deadline = time.perf_counter() + ms / 1000.0
    spins = 0
    while time.perf_counter() < deadline:
        spins += 1
    await _respond(send, 200, "Burned %d ms (%d spins). Pong!\n" % (ms, spins))


async def gil_wedge(scope, receive, send, seconds):
    """Sleep in C while holding the GIL: no thread of this process runs,
    the loop included. One nanosleep through ctypes.PyDLL."""
    import ctypes

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    whole = int(seconds)
    request = Timespec(whole, int((seconds - whole) * 1e9))
    ctypes.PyDLL(None).nanosleep(ctypes.byref(request), None)
    await _respond(send, 200, "Held the GIL for %r s. Pong!\n" % seconds)


async def headers_then_wedge(scope, receive, send):
    """Send the headers and the start of the body, then spin forever."""
    first = b"Wedging after the headers...\n"
    await _start(send, 200, len(first) + 1000)
    await send({"type": "http.response.body", "body": first, "more_body": True})
    # Let the server write what it was handed, as a WSGI server does
    # between two chunks of an iterable.
    await asyncio.sleep(0.05)
    while True:
        pass


async def trickle_response(scope, receive, send, chunks, interval):
    """A slow streamed body: chunks pieces, interval seconds apart (awaited)."""
    await _start(send, 200, len(TRICKLE_CHUNK) * chunks)
    for index in range(chunks):
        if index:
            await asyncio.sleep(interval)
        await send({"type": "http.response.body", "body": TRICKLE_CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def big_response(scope, receive, send, bytes):  # noqa: A002 (the protocol's name)
    """A body of bytes bytes, sent in 64 KiB blocks."""
    await _start(send, 200, bytes)
    block = b"X" * 65536
    left = bytes
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": left > 0})
    if bytes == 0:
        await send({"type": "http.response.body", "body": b""})


async def echo_upload(scope, receive, send, bytes):  # noqa: A002 (the protocol's name)
    """Read the whole POST body and answer how many bytes arrived."""
    received = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    if received != bytes:
        await _respond(send, 400, "Received %d bytes, expected %d\n" % (received, bytes))
        return
    await _respond(send, 200, "Received %d bytes\n" % received)


async def truncated_response(scope, receive, send):
    """Headers and part of the body, then the worker dies."""
    await _start(send, 200, 1000)
    await send({"type": "http.response.body", "body": b"X" * 100, "more_body": True})
    # Let the server write what it was handed before the process ends.
    await asyncio.sleep(0.05)
    os._exit(1)


async def fd_leak(scope, receive, send, count):
    """Open count more files and keep them for the life of the worker."""
    for _ in range(count):
        _LEAKED_FILES.append(open(os.devnull, "rb"))
    await _respond(send, 200, "Leaked %d descriptors (%d total). Pong!\n" % (count, len(_LEAKED_FILES)))


async def memory_balloon(scope, receive, send, mb):
    """Hold mb MiB (every page touched) for the length of the request."""
    balloon = b"X" * (mb << 20)
    size = len(balloon)
    del balloon
    await _respond(send, 200, "Held %d MiB. Pong!\n" % (size >> 20))


async def loop_block(scope, receive, send, seconds):
    """time.sleep inside the coroutine: the event loop, and every connection
    this worker serves, stops for that long (the GIL is free meanwhile)."""
    time.sleep(seconds)
    await _respond(send, 200, "Blocked for %r s. Pong!\n" % seconds)


async def async_sleep(scope, receive, send, seconds):
    """The same sleep awaited: only this request waits."""
    await asyncio.sleep(seconds)
    await _respond(send, 200, "Awaited %r s. Pong!\n" % seconds)


async def never_finish(scope, receive, send):
    """Never answer: await an event nobody sets (a request stuck on a peer
    that never replies). The loop stays free; the request never ends."""
    forever = asyncio.Event()
    _WAITING.append(forever)
    await forever.wait()


async def raise_after_start(scope, receive, send):
    """Send the headers and part of the body, then raise: the server can
    only end the connection early so the client sees the body is short."""
    await _start(send, 200, 1000)
    await send({"type": "http.response.body", "body": b"X" * 100, "more_body": True})
    raise RuntimeError("labour: RaiseAfterStart raises on purpose")


def _spec(name):
    """The WSGI app's parameters of ``name``: one table of parameters."""
    return labour_app.BEHAVIOURS[name][1]


# name -> (coroutine function, {parameter: (parser, type name, default)})
BEHAVIOURS = {
    "PlainResponse": (plain_response, _spec("PlainResponse")),
    "Sleeping": (sleeping, _spec("Sleeping")),
    "IOBound": (io_bound, _spec("IOBound")),
    "LeakMemory": (leak_memory, _spec("LeakMemory")),
    "PythonWedge": (python_wedge, _spec("PythonWedge")),
    "SIGSEGV": (sigsegv, _spec("SIGSEGV")),
    "RealSegfault": (real_segfault, _spec("RealSegfault")),
    "Abort": (abort, _spec("Abort")),
    "WorkerExit": (worker_exit, _spec("WorkerExit")),
    "SelfKill": (self_kill, _spec("SelfKill")),
    "RaiseException": (raise_exception, _spec("RaiseException")),
    "BadStatus": (bad_status, _spec("BadStatus")),
    "CpuBurn": (cpu_burn, _spec("CpuBurn")),
    "GilWedge": (gil_wedge, _spec("GilWedge")),
    "HeadersThenWedge": (headers_then_wedge, _spec("HeadersThenWedge")),
    "TrickleResponse": (trickle_response, _spec("TrickleResponse")),
    "BigResponse": (big_response, _spec("BigResponse")),
    "EchoUpload": (echo_upload, _spec("EchoUpload")),
    "TruncatedResponse": (truncated_response, _spec("TruncatedResponse")),
    "FdLeak": (fd_leak, _spec("FdLeak")),
    "MemoryBalloon": (memory_balloon, _spec("MemoryBalloon")),
    "LoopBlock": (loop_block, _spec("LoopBlock")),
    "NeverFinish": (never_finish, _spec("NeverFinish")),
    "RaiseAfterStart": (raise_after_start, _spec("RaiseAfterStart")),
    # ASGI only (labour_app.ASGI_ONLY says why the WSGI app has none).
    "AsyncSleep": (async_sleep, {
        "seconds": (labour_app._non_negative_float, "seconds", 1.0),
    }),
}


async def lifespan(receive, send):
    """Start up (or fail to, when LABOUR_LIFESPAN_FAIL is set), then wait
    for the shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get(LIFESPAN_FAIL_ENV):
                await send({"type": "lifespan.startup.failed",
                            "message": "labour: %s is set: the startup fails on purpose" % LIFESPAN_FAIL_ENV})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _path_text(scope):
    """The path as the WSGI app sees PATH_INFO: its bytes, one character per
    byte (the server has percent-decoded it into UTF-8 text)."""
    return scope.get("path", "").encode("utf-8", "surrogateescape").decode("latin-1")


async def application(scope, receive, send):
    """The ASGI entry point: dispatch to the behaviour named by the path."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] != "http":
        raise RuntimeError("labour_asgi serves HTTP only, not %r" % scope["type"])
    await _logged(_dispatch, scope, receive, send)


async def _logged(app, scope, receive, send):
    """Await ASGI ``app`` for an HTTP request, logged as started and, once
    its last body message is sent, as finished."""
    rid = None
    for key, value in scope.get("headers", ()):
        if key.lower() == b"x-labour-request":
            rid = request_id(value.decode("latin-1"))
    if rid is None:
        await app(scope, receive, send)
        return
    log_request("S", rid)

    async def logged_send(message):
        await send(message)
        if message.get("type") == "http.response.body" and not message.get("more_body", False):
            log_request("F", rid)

    await app(scope, receive, logged_send)


async def _dispatch(scope, receive, send):
    name = _path_text(scope).strip("/").split("/")[0] or "PlainResponse"
    if name not in BEHAVIOURS:
        await _respond(send, 404, "Unknown behaviour %r\n" % name)
        return
    function, spec = BEHAVIOURS[name]
    query = scope.get("query_string", b"").decode("latin-1")
    try:
        parameters = _parse_parameters(name, query, spec)
    except BadParameter as error:
        await _respond(send, 400, "%s\n" % error)
        return
    await function(scope, receive, send, **parameters)


def wrap(user_app, prefix=labour_app.LABOUR_PREFIX):
    """labour's middleware for an ASGI application, as labour_app.wrap is
    for WSGI: an HTTP request under ``prefix`` runs ``application``'s
    behaviour in this worker; everything else (lifespan included) goes to
    ``user_app`` untouched."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            await user_app(scope, receive, send)
            return
        path = scope.get("path", "")
        if not path.startswith(prefix):
            # Logged as labour's own requests are: the funnel counts both.
            await _logged(user_app, scope, receive, send)
            return
        inner = dict(scope)
        inner["path"] = path[len(prefix) - 1:]
        inner["root_path"] = scope.get("root_path", "") + prefix.rstrip("/")
        inner.pop("raw_path", None)
        await application(inner, receive, send)

    return wrapped


# As uvicorn and others look for it by default.
app = application


def describe():
    """The behaviours and their parameters, as labour_app.describe() says them."""
    return labour_app.describe(BEHAVIOURS)


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--describe", action="store_true", required=True, help="print the behaviours as JSON")
    parser.parse_args()
    print(json.dumps(describe(), indent=2, sort_keys=True, separators=(",", ": ")))
