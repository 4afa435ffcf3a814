"""A small shop: the application labour guards in this example.

Plain WSGI (standard library only), so the example has one dependency,
gunicorn; a Flask or Django application is guarded the same way (its
``module:callable`` is what ``wrap`` names).

    GET  /health        200 "ok"
    GET  /orders        200, the orders as JSON
    POST /orders        201, the order created, as JSON
"""

import itertools
import json
import threading

_ORDERS = []
_NEXT_ID = itertools.count(1)
_LOCK = threading.Lock()


def _answer(start_response, status, body, content_type="application/json"):
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    """The WSGI callable: gunicorn serves it as ``app:app``."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "")
    if path == "/health":
        return _answer(start_response, "200 OK", "ok\n", "text/plain")
    if path == "/orders" and method == "GET":
        with _LOCK:
            orders = list(_ORDERS[-10:])
        return _answer(start_response, "200 OK", json.dumps({"orders": orders}))
    if path == "/orders" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            order = json.loads(environ["wsgi.input"].read(length) or b"{}")
        except ValueError:
            return _answer(start_response, "400 Bad Request", '{"error": "not JSON"}')
        with _LOCK:
            order = {"id": next(_NEXT_ID), "item": order.get("item"), "quantity": order.get("quantity", 1)}
            _ORDERS.append(order)
            del _ORDERS[:-100]
        return _answer(start_response, "201 Created", json.dumps(order))
    return _answer(start_response, "404 Not Found", '{"error": "no such page"}')
