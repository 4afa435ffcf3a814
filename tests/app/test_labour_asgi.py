"""The ASGI twin's non-destructive behaviours, driven through the ASGI 3
interface with a checker of the message sequence (no server needed).

Run: python3 -m unittest discover -s tests/app (Python 3 only; the Python
2.7 run of the WSGI app's tests names its own file).
"""

import asyncio
import json
import os
import subprocess
import sys
import unittest

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "images", "app")
sys.path.insert(0, APP_DIR)

import labour_app  # noqa: E402
import labour_asgi  # noqa: E402

PYTHON_VERSION = "%d.%d.%d" % tuple(sys.version_info[:3])


class Exchange:
    """One request's messages, checked as a server checks them: a start
    before any body, headers as bytes pairs, a body of the length the
    headers said once the last body message came."""

    def __init__(self, body=None):
        self.upload = [] if body is None else [body[i:i + 1000] for i in range(0, len(body), 1000)] or [b""]
        self.status = None
        self.headers = None
        self.body = b""
        self.finished = False

    async def receive(self):
        if self.upload:
            chunk = self.upload.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.upload)}
        await asyncio.Event().wait()  # never disconnects

    async def send(self, message):
        if message["type"] == "http.response.start":
            assert self.status is None, "http.response.start twice"
            assert isinstance(message["status"], int), message
            for name, value in message["headers"]:
                assert isinstance(name, bytes) and isinstance(value, bytes), message
            self.status, self.headers = message["status"], dict(message["headers"])
        elif message["type"] == "http.response.body":
            assert self.status is not None, "body before start"
            assert not self.finished, "body after the last"
            self.body += message.get("body", b"")
            self.finished = not message.get("more_body", False)
        else:
            raise AssertionError("unexpected message %r" % message)


def scope(path, query="", method="GET"):
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode("utf-8"),
        "query_string": query.encode("latin-1"), "root_path": "", "headers": [],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2),
    }


def call(path, query="", body=None):
    """Run one request through the app: (status code, headers, body)."""
    exchange = Exchange(body)
    method = "GET" if body is None else "POST"
    asyncio.run(labour_asgi.application(scope(path, query, method), exchange.receive, exchange.send))
    assert exchange.finished, "the response never ended"
    return exchange.status, exchange.headers, exchange.body


class BehaviourTests(unittest.TestCase):
    def assert_answer(self, path, query, status, body=None, upload=None):
        code, headers, got = call(path, query, upload)
        self.assertEqual(code, status, got)
        self.assertEqual(headers[b"x-labour-worker"], str(os.getpid()).encode())
        self.assertEqual(headers[b"x-labour-python"], PYTHON_VERSION.encode())
        self.assertEqual(int(headers[b"content-length"]), len(got))
        if body is not None:
            self.assertEqual(got, body)
        return got

    def test_plain_response(self):
        self.assert_answer("/PlainResponse", "", 200, b"Pong!\n")
        self.assert_answer("/", "", 200, b"Pong!\n")
        self.assert_answer("/PlainResponse", "length=10", 200, b"X" * 10)
        self.assert_answer("/PlainResponse", "status=503&length=0", 503, b"")

    def test_sleeping_awaits(self):
        self.assert_answer("/Sleeping", "sleep_duration=0.01", 200, b"Sleeping 0.01... and Pong!\n")

    def test_io_bound(self):
        got = self.assert_answer("/IOBound", "length=100000", 200)
        self.assertIn(b"Read 100000 bytes from /dev/zero", got)
        self.assert_answer("/IOBound", "filename=sample.txt&length=100", 200,
                           b"Read 100 bytes from sample.txt. Pong!\n")
        self.assert_answer("/IOBound", "filename=no-such-fixture", 403)
        got = self.assert_answer("/IOBound", "filename=/etc/passwd", 400)
        self.assertEqual(got.count(b"\n"), 1, got)

    def test_leak_memory_and_fds_accumulate(self):
        before = sum(len(chunk) for chunk in labour_asgi._LEAKED)
        self.assert_answer("/LeakMemory", "how_many=4096", 200)
        self.assertEqual(sum(len(chunk) for chunk in labour_asgi._LEAKED), before + 4096)
        files = len(labour_asgi._LEAKED_FILES)
        self.assert_answer("/FdLeak", "count=2", 200)
        self.assertEqual(len(labour_asgi._LEAKED_FILES), files + 2)

    def test_unknown_behaviour_and_bad_parameters(self):
        self.assert_answer("/NoSuchThing", "", 404, b"Unknown behaviour 'NoSuchThing'\n")
        got = self.assert_answer("/PlainResponse", "length=abc", 400)
        self.assertEqual(got, b"PlainResponse: length='abc' is not a valid integer\n")
        self.assert_answer("/PlainResponse", "colour=red", 400)
        self.assert_answer("/LoopBlock", "seconds=-1", 400)
        self.assert_answer("/AsyncSleep", "seconds=soon", 400)
        got = self.assert_answer("/FdLeak", "count=100001", 400)
        self.assertIn(b"the most without a memory limit", got)

    def test_text_is_escaped_as_the_wsgi_app_escapes_it(self):
        # The server has percent-decoded the path into UTF-8 text.
        self.assert_answer("/NoSuch\u00e9", "", 404, b"Unknown behaviour 'NoSuch\\xc3\\xa9'\n")
        self.assert_answer("/PlainResponse", "length=%C3%A9", 400,
                           b"PlainResponse: length='\\xc3\\xa9' is not a valid integer\n")

    def test_cpu_burn_gil_wedge_and_the_two_sleeps_answer(self):
        self.assertTrue(self.assert_answer("/CpuBurn", "ms=5", 200).startswith(b"Burned 5 ms"))
        self.assert_answer("/GilWedge", "seconds=0.01", 200, b"Held the GIL for 0.01 s. Pong!\n")
        self.assert_answer("/LoopBlock", "seconds=0.01", 200, b"Blocked for 0.01 s. Pong!\n")
        self.assert_answer("/AsyncSleep", "seconds=0.01", 200, b"Awaited 0.01 s. Pong!\n")

    def test_streams(self):
        self.assert_answer("/TrickleResponse", "chunks=3&interval=0", 200, labour_app.TRICKLE_CHUNK * 3)
        self.assert_answer("/TrickleResponse", "chunks=0", 200, b"")
        self.assert_answer("/BigResponse", "bytes=100000", 200, b"X" * 100000)
        self.assert_answer("/BigResponse", "bytes=0", 200, b"")

    def test_echo_upload(self):
        self.assert_answer("/EchoUpload", "bytes=2500", 200, b"Received 2500 bytes\n", upload=b"u" * 2500)
        self.assert_answer("/EchoUpload", "bytes=1000", 400, b"Received 10 bytes, expected 1000\n",
                           upload=b"u" * 10)

    def test_memory_balloon(self):
        self.assert_answer("/MemoryBalloon", "mb=1", 200, b"Held 1 MiB. Pong!\n")

    def test_raise_exception_raises_before_the_start(self):
        exchange = Exchange()
        with self.assertRaises(RuntimeError):
            asyncio.run(labour_asgi.application(scope("/RaiseException"), exchange.receive, exchange.send))
        self.assertIsNone(exchange.status)

    def test_raise_after_start_raises_with_the_body_short(self):
        exchange = Exchange()
        with self.assertRaises(RuntimeError):
            asyncio.run(labour_asgi.application(scope("/RaiseAfterStart"), exchange.receive, exchange.send))
        self.assertEqual(exchange.status, 200)
        self.assertEqual(exchange.headers[b"content-length"], b"1000")
        self.assertEqual(len(exchange.body), 100)
        self.assertFalse(exchange.finished)

    def test_bad_status_misuses_the_messages(self):
        for mode, problem in (("invalid", "status"), ("twice", "twice")):
            exchange = Exchange()
            with self.assertRaises(AssertionError) as raised:
                asyncio.run(labour_asgi.application(scope("/BadStatus", "mode=" + mode),
                                                    exchange.receive, exchange.send))
            self.assertIn(problem, str(raised.exception))
        self.assert_answer("/BadStatus", "mode=sideways", 400)

    def test_never_finish_never_answers_and_leaves_the_loop_free(self):
        async def both():
            stuck = Exchange()
            task = asyncio.ensure_future(
                labour_asgi.application(scope("/NeverFinish"), stuck.receive, stuck.send))
            plain = Exchange()
            await labour_asgi.application(scope("/PlainResponse"), plain.receive, plain.send)
            done = task.done()
            task.cancel()
            return stuck, plain, done

        stuck, plain, done = asyncio.run(both())
        self.assertEqual(plain.status, 200)
        self.assertFalse(done)
        self.assertIsNone(stuck.status)


class LoopTests(unittest.TestCase):
    """LoopBlock stops every request on the loop; AsyncSleep only its own.
    Told by the order the answers finish in, never by a timing."""

    def finishing_order(self, slow):
        order = []

        async def request(label, path, query=""):
            exchange = Exchange()
            await labour_asgi.application(scope(path, query), exchange.receive, exchange.send)
            self.assertEqual(exchange.status, 200)
            order.append(label)

        async def both():
            slow_request = asyncio.ensure_future(request("slow", "/" + slow, "seconds=0.3"))
            await asyncio.sleep(0)  # the slow request starts first
            await asyncio.gather(slow_request, request("plain", "/PlainResponse"))

        asyncio.run(both())
        return order

    def test_a_blocking_sleep_holds_every_request_of_the_loop(self):
        self.assertEqual(self.finishing_order("LoopBlock"), ["slow", "plain"])

    def test_an_awaited_sleep_holds_only_its_own(self):
        self.assertEqual(self.finishing_order("AsyncSleep"), ["plain", "slow"])


class LifespanTests(unittest.TestCase):
    def run_lifespan(self):
        incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent = []

        async def receive():
            return incoming.pop(0)

        async def send(message):
            sent.append(message["type"])

        asyncio.run(labour_asgi.application({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
        return sent

    def test_startup_completes(self):
        os.environ.pop(labour_asgi.LIFESPAN_FAIL_ENV, None)
        self.assertEqual(self.run_lifespan(), ["lifespan.startup.complete", "lifespan.shutdown.complete"])

    def test_startup_fails_when_asked(self):
        os.environ[labour_asgi.LIFESPAN_FAIL_ENV] = "1"
        self.addCleanup(os.environ.pop, labour_asgi.LIFESPAN_FAIL_ENV, None)
        self.assertEqual(self.run_lifespan(), ["lifespan.startup.failed"])


class CatalogueTests(unittest.TestCase):
    def test_every_wsgi_behaviour_is_here_with_the_same_parameters(self):
        wsgi = labour_app.describe()
        asgi = labour_asgi.describe()
        self.assertEqual({name: asgi[name] for name in wsgi}, wsgi)
        self.assertEqual(set(asgi) - set(wsgi), set(labour_app.ASGI_ONLY))

    def test_describe_prints_json(self):
        out = subprocess.check_output([sys.executable, os.path.join(APP_DIR, "labour_asgi.py"), "--describe"])
        described = json.loads(out.decode("utf-8"))
        self.assertEqual(described["AsyncSleep"]["seconds"], {"type": "seconds", "default": 1.0})
        self.assertEqual(described["LoopBlock"]["seconds"], {"type": "seconds", "default": 1.0})

    def test_the_wsgi_app_answers_an_asgi_only_behaviour_404_with_why(self):
        from wsgiref.util import setup_testing_defaults

        environ = {"PATH_INFO": "/AsyncSleep", "QUERY_STRING": ""}
        setup_testing_defaults(environ)
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = status

        body = b"".join(labour_app.application(environ, start_response))
        self.assertEqual(captured["status"], "404 Not Found")
        self.assertTrue(body.startswith(b"AsyncSleep is ASGI only: a WSGI application cannot await"), body)
        self.assertEqual(body.count(b"\n"), 1)


if __name__ == "__main__":
    unittest.main()
