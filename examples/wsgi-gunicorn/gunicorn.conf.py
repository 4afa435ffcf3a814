# gunicorn's configuration of the shop: what labour guards is this file.
import os

# All addresses, port 8000, in the container. GUNICORN_CMD_ARGS (which
# labour sets with --network host, see labour.yaml) wins over it.
bind = os.environ.get("SHOP_BIND", "0.0.0.0:8000")
# Sync workers serve one request at a time each: with one, a slow request
# holds up every other (labour's threshold run fails then).
workers = 4
worker_class = "sync"
# A worker silent this long is killed and replaced.
timeout = 30
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = 10
accesslog = None
