"""The stress application's non-destructive behaviours, under wsgiref.validate.

Run: python3 -m unittest discover -s tests/app
"""

import io
import json
import os
import subprocess
import sys
import unittest
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

APP_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "images", "app")
sys.path.insert(0, APP_DIR)

import labour_app  # noqa: E402


def call(path, query="", body=None):
    """Run one request through the validated app: (status code, headers, body)."""
    environ = {"SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.errors": io.StringIO()}
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

    def test_io_bound_missing_file(self):
        self.assert_answer("/IOBound", "filename=/nonexistent/labour", 403)

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
        out = subprocess.run(
            [sys.executable, os.path.join(APP_DIR, "labour_app.py"), "--describe"],
            check=True, capture_output=True, text=True,
        ).stdout
        described = json.loads(out)
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
            handler = SimpleHandler(io.BytesIO(), out, io.StringIO(), environ)
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

    def test_memory_balloon(self):
        self.assert_answer("/MemoryBalloon", "mb=1", 200, b"Held 1 MiB. Pong!\n")


if __name__ == "__main__":
    unittest.main()
