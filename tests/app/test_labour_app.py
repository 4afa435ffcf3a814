"""The stress application's non-destructive behaviours, under wsgiref.validate.

Run: python3 -m unittest discover -s tests/app (or python2.7: the app is one
source for both, and these tests hold it to the same answers on both).
"""

import io
import json
import os
import subprocess
import sys
import unittest
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

# wsgi.errors and a server's error stream take native strings: Python 2's
# are bytes.
TextIO = io.StringIO if sys.version_info[0] >= 3 else io.BytesIO
PYTHON_VERSION = "%d.%d.%d" % tuple(sys.version_info[:3])

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "images", "app")
sys.path.insert(0, APP_DIR)

import labour_app  # noqa: E402


def call(path, query="", body=None):
    """Run one request through the validated app: (status code, headers, body)."""
    environ = {"SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.errors": TextIO()}
    if body is not None:
        environ.update({
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/octet-stream",
            "wsgi.input": io.BytesIO(body),
        })
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)
        return lambda data: None

    result = validator(labour_app.application)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()
    return int(captured["status"].split()[0]), captured["headers"], body


class BehaviourTests(unittest.TestCase):
    def assert_answer(self, path, query, status, body=None, upload=None):
        code, headers, got = call(path, query, upload)
        self.assertEqual(code, status, got)
        self.assertEqual(headers["X-Labour-Worker"], str(os.getpid()))
        self.assertEqual(headers["X-Labour-Python"], PYTHON_VERSION)
        self.assertEqual(int(headers["Content-Length"]), len(got))
        if body is not None:
            self.assertEqual(got, body)
        return got

    def test_plain_response_default(self):
        self.assert_answer("/PlainResponse", "", 200, b"Pong!\n")

    def test_empty_path_is_plain_response(self):
        self.assert_answer("/", "", 200, b"Pong!\n")

    def test_plain_response_length_and_status(self):
        self.assert_answer("/PlainResponse", "length=10", 200, b"X" * 10)
        self.assert_answer("/PlainResponse", "status=404", 404, b"Pong!\n")
        self.assert_answer("/PlainResponse", "status=503&length=0", 503, b"")

    def test_sleeping(self):
        self.assert_answer("/Sleeping", "sleep_duration=0.01", 200, b"Sleeping 0.01... and Pong!\n")

    def test_io_bound(self):
        got = self.assert_answer("/IOBound", "length=100000", 200)
        self.assertIn(b"Read 100000 bytes from /dev/zero", got)

    def test_io_bound_reads_a_fixture_by_name_or_path(self):
        got = self.assert_answer("/IOBound", "filename=sample.txt&length=100", 200)
        self.assertEqual(got, b"Read 100 bytes from sample.txt. Pong!\n")
        path = os.path.join(labour_app.FIXTURES, "sample.txt")
        got = self.assert_answer("/IOBound", "filename=%s&length=100000" % path, 200)
        # The file is shorter than asked: what is there is read.
        self.assertIn(b"Read 4096 bytes from ", got)

    def test_io_bound_missing_fixture_is_403(self):
        self.assert_answer("/IOBound", "filename=no-such-fixture", 403)

    def test_io_bound_reads_nothing_outside_the_fixtures(self):
        app = os.path.join(APP_DIR, "labour_app.py")
        for filename in ("/etc/passwd", "/nonexistent/labour", "../labour_app.py", app,
                         os.path.join(labour_app.FIXTURES, "..", "labour_app.py"),
                         labour_app.FIXTURES, "", "/dev/urandom"):
            got = self.assert_answer("/IOBound", "filename=" + filename, 400)
            self.assertEqual(got.count(b"\n"), 1, got)
            self.assertTrue(got.startswith(b"IOBound: filename="), got)
            self.assertIn(b"fixtures", got)

    def test_io_bound_follows_no_link_out_of_the_fixtures(self):
        if not hasattr(os, "symlink"):
            self.skipTest("no symbolic links here")
        import shutil
        import tempfile
        scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, scratch)
        fixtures = os.path.join(scratch, "fixtures")
        os.mkdir(fixtures)
        os.symlink("/etc/hostname", os.path.join(fixtures, "out"))
        saved = labour_app.FIXTURES
        labour_app.FIXTURES = fixtures
        self.addCleanup(setattr, labour_app, "FIXTURES", saved)
        self.assert_answer("/IOBound", "filename=out", 400)

    def test_leak_memory_accumulates(self):
        before = sum(len(chunk) for chunk in labour_app._LEAKED)
        self.assert_answer("/LeakMemory", "how_many=4096", 200)
        self.assertEqual(sum(len(chunk) for chunk in labour_app._LEAKED), before + 4096)

    def test_unknown_behaviour_is_404(self):
        self.assert_answer("/NoSuchThing", "", 404)

    def test_bad_parameter_is_400_with_one_line(self):
        got = self.assert_answer("/PlainResponse", "length=abc", 400)
        self.assertEqual(got.count(b"\n"), 1)
        self.assertIn(b"length", got)
        self.assert_answer("/Sleeping", "sleep_duration=-1", 400)
        self.assert_answer("/PlainResponse", "status=99", 400)

    def test_unknown_parameter_is_400(self):
        got = self.assert_answer("/PlainResponse", "colour=red", 400)
        self.assertIn(b"colour", got)

    def test_describe_lists_the_seed_behaviours(self):
        out = subprocess.check_output(
            [sys.executable, os.path.join(APP_DIR, "labour_app.py"), "--describe"],
        )
        described = json.loads(out.decode("utf-8"))
        self.assertTrue(
            {"PlainResponse", "Sleeping", "IOBound", "LeakMemory", "PythonWedge", "SIGSEGV"} <= set(described)
        )
        self.assertEqual(described["PlainResponse"]["status"]["default"], 200)
        self.assertEqual(described["TrickleResponse"]["chunks"]["default"], 10)

    def test_raise_exception_raises(self):
        with self.assertRaises(RuntimeError):
            call("/RaiseException")

    def test_bad_status_gets_a_500_from_a_conforming_server(self):
        # wsgiref's own handler stands for a conforming server.
        from wsgiref.handlers import SimpleHandler

        for mode in ("invalid", "twice"):
            environ = {"SCRIPT_NAME": "", "PATH_INFO": "/BadStatus", "QUERY_STRING": "mode=" + mode}
            setup_testing_defaults(environ)
            out = io.BytesIO()
            handler = SimpleHandler(io.BytesIO(), out, TextIO(), environ)
            handler.run(labour_app.application)
            self.assertIn(b"500 Internal Server Error", out.getvalue().split(b"\r\n")[0], mode)
        self.assert_answer("/BadStatus", "mode=sideways", 400)

    def test_cpu_burn(self):
        got = self.assert_answer("/CpuBurn", "ms=5", 200)
        self.assertTrue(got.startswith(b"Burned 5 ms"))

    def test_gil_wedge_returns_after_its_sleep(self):
        got = self.assert_answer("/GilWedge", "seconds=0.01", 200)
        self.assertIn(b"0.01", got)

    def test_trickle_response(self):
        self.assert_answer("/TrickleResponse", "chunks=3&interval=0", 200, labour_app.TRICKLE_CHUNK * 3)

    def test_big_response(self):
        self.assert_answer("/BigResponse", "bytes=100000", 200, b"X" * 100000)

    def test_echo_upload(self):
        self.assert_answer("/EchoUpload", "bytes=1000", 200, b"Received 1000 bytes\n", upload=b"u" * 1000)
        self.assert_answer("/EchoUpload", "bytes=1000", 400, upload=b"u" * 10)

    def test_fd_leak_keeps_descriptors(self):
        before = len(labour_app._LEAKED_FILES)
        self.assert_answer("/FdLeak", "count=2", 200)
        self.assertEqual(len(labour_app._LEAKED_FILES), before + 2)

    def test_the_status_line_and_headers_are_the_same_on_every_python(self):
        environ = {"SCRIPT_NAME": "", "PATH_INFO": "/PlainResponse", "QUERY_STRING": "status=422"}
        setup_testing_defaults(environ)
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        labour_app.application(environ, start_response)
        # Python 3.13's http.HTTPStatus says "Unprocessable Content": the
        # app's own table keeps every interpreter's answer the same.
        self.assertEqual(captured["status"], "422 Unprocessable Entity")
        self.assertEqual([name for name, _ in captured["headers"]],
                         ["Content-Type", "Content-Length", "X-Labour-Worker", "X-Labour-Python"])
        self.assertEqual(labour_app._status_line(299), "299 Unknown")

    def test_numbers_are_read_as_ascii_on_every_python(self):
        # Python 3's int() takes underscores and other scripts' digits,
        # Python 2's does not: the app takes neither.
        self.assert_answer("/PlainResponse", "length=1_0", 400)
        self.assert_answer("/PlainResponse", "length=%D9%A1", 400)
        self.assert_answer("/Sleeping", "sleep_duration=0.0_1", 400)
        self.assert_answer("/PlainResponse", "length=+3", 200, b"XXX")

    def test_text_that_is_not_ascii_is_escaped_the_same_way(self):
        # PATH_INFO holds the path's bytes, one character per byte on Python 3.
        got = self.assert_answer("/NoSuch\xc3\xa9", "", 404)
        self.assertEqual(got, b"Unknown behaviour 'NoSuch\\xc3\\xa9'\n")
        got = self.assert_answer("/PlainResponse", "length=%C3%A9", 400)
        self.assertEqual(got, b"PlainResponse: length='\\xc3\\xa9' is not a valid integer\n")
        got = self.assert_answer("/IOBound", "filename=no-such-%C3%A9", 403)
        self.assertEqual(got, b"no-such-\\xc3\\xa9: No such file or directory\n")
        got = self.assert_answer("/IOBound", "filename=/nonexistent/%C3%A9", 400)
        self.assertEqual(got, b"IOBound: filename='/nonexistent/\\xc3\\xa9' is not /dev/zero "
                              b"or a file under the app's fixtures directory\n")

    def test_floats_are_written_the_same_way(self):
        # Python 2's str() of a float keeps 12 digits, its repr() all of them,
        # like Python 3's str().
        self.assert_answer("/Sleeping", "sleep_duration=0.30000000000000004", 200,
                           b"Sleeping 0.30000000000000004... and Pong!\n")

    def test_memory_balloon(self):
        self.assert_answer("/MemoryBalloon", "mb=1", 200, b"Held 1 MiB. Pong!\n")

    def test_loop_block_sleeps_then_answers(self):
        self.assert_answer("/LoopBlock", "seconds=0.01", 200, b"Blocked for 0.01 s. Pong!\n")
        self.assert_answer("/LoopBlock", "seconds=-1", 400)

    def test_raise_after_start_raises_after_part_of_the_body(self):
        environ = {"SCRIPT_NAME": "", "PATH_INFO": "/RaiseAfterStart", "QUERY_STRING": ""}
        setup_testing_defaults(environ)
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, dict(headers)

        body = labour_app.application(environ, start_response)
        self.assertEqual(next(body), b"X" * 100)
        self.assertEqual(captured["headers"]["Content-Length"], "1000")
        with self.assertRaises(RuntimeError):
            next(body)

    def test_an_asgi_only_behaviour_is_404_with_why(self):
        for name in labour_app.ASGI_ONLY:
            got = self.assert_answer("/" + name, "", 404)
            self.assertEqual(got, ("%s is ASGI only: %s\n" % (name, labour_app.ASGI_ONLY[name])).encode("ascii"))
            self.assertNotIn(name, labour_app.BEHAVIOURS)


class BoundTests(unittest.TestCase):
    """What a request may allocate is bounded, unless labour says a memory
    limit is in force (LABOUR_MEMORY_LIMIT)."""

    ABOVE = [
        ("/LeakMemory", "how_many=%d" % ((1 << 30) + 1)),
        ("/MemoryBalloon", "mb=16385"),
        ("/BigResponse", "bytes=%d" % ((1 << 30) + 1)),
        ("/IOBound", "length=%d" % ((1 << 30) + 1)),
        ("/FdLeak", "count=100001"),
    ]

    def setUp(self):
        saved = os.environ.pop(labour_app.MEMORY_LIMIT_ENV, None)
        if saved is not None:
            self.addCleanup(os.environ.__setitem__, labour_app.MEMORY_LIMIT_ENV, saved)
        self.addCleanup(os.environ.pop, labour_app.MEMORY_LIMIT_ENV, None)

    def test_the_bounds_are_labours(self):
        self.assertEqual(labour_app.BOUNDS, {
            ("LeakMemory", "how_many"): 1 << 30,
            ("MemoryBalloon", "mb"): 16384,
            ("BigResponse", "bytes"): 1 << 30,
            ("IOBound", "length"): 1 << 30,
            ("FdLeak", "count"): 100000,
        })

    def test_above_a_bound_is_400_with_one_line_without_a_memory_limit(self):
        for path, query in self.ABOVE:
            code, _, got = call(path, query)
            self.assertEqual(code, 400, (path, got))
            self.assertEqual(got.count(b"\n"), 1, got)
            self.assertIn(b"the most without a memory limit (LABOUR_MEMORY_LIMIT)", got)

    def test_at_a_bound_is_accepted(self):
        # The parameters only: nothing is allocated.
        for name, param in labour_app.BOUNDS:
            spec = labour_app.BEHAVIOURS[name][1]
            query = "%s=%d" % (param, labour_app.BOUNDS[name, param])
            values = labour_app._parse_parameters(name, query, spec)
            self.assertEqual(values[param], labour_app.BOUNDS[name, param])

    def test_a_memory_limit_lifts_the_bounds(self):
        os.environ[labour_app.MEMORY_LIMIT_ENV] = str(64 << 20)
        self.assertEqual(labour_app.memory_limit(), 64 << 20)
        spec = labour_app.BEHAVIOURS["LeakMemory"][1]
        values = labour_app._parse_parameters("LeakMemory", "how_many=%d" % (2 << 30), spec)
        self.assertEqual(values["how_many"], 2 << 30)
        for text in ("", "lots", "0", "-5", "1_000"):
            os.environ[labour_app.MEMORY_LIMIT_ENV] = text
            self.assertIsNone(labour_app.memory_limit(), text)
            code, _, _ = call("/FdLeak", "count=100001")
            self.assertEqual(code, 400, text)

    def test_describe_says_the_bounds(self):
        described = labour_app.describe()
        for (name, param), bound in labour_app.BOUNDS.items():
            self.assertEqual(described[name][param]["max"], bound)
        self.assertNotIn("max", described["Sleeping"]["sleep_duration"])


class WsgirefTests(unittest.TestCase):
    def test_the_listen_queue_is_the_backlog_asked(self):
        import socket
        from wsgiref.simple_server import WSGIServer

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        listener.close()
        seen = {}
        original = WSGIServer.server_activate

        def activate(server):
            seen["queue"] = server.request_queue_size
            original(server)
            server.server_close()
            raise KeyboardInterrupt  # stop before serving

        WSGIServer.server_activate = activate
        self.addCleanup(setattr, WSGIServer, "server_activate", original)
        with self.assertRaises(KeyboardInterrupt):
            labour_app.serve_wsgiref("127.0.0.1:%d" % port, 7)
        self.assertEqual(seen["queue"], 7)
        with self.assertRaises(KeyboardInterrupt):
            labour_app.serve_wsgiref("127.0.0.1:%d" % port)
        self.assertEqual(seen["queue"], 5)

    def test_backlog_goes_only_with_wsgiref(self):
        script = os.path.join(APP_DIR, "labour_app.py")
        for arguments in (["--describe", "--backlog", "3"], ["--wsgiref", "127.0.0.1:1", "--backlog", "0"]):
            process = subprocess.Popen([sys.executable, script] + arguments,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            _, err = process.communicate()
            self.assertEqual(process.returncode, 2, err)
            self.assertIn(b"--backlog", err)


if __name__ == "__main__":
    unittest.main()
