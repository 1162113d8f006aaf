"""Gunicorn settings for Parkflow (``gunicorn -c python:webapp.gunicorn_conf``).

Command-line flags (``parkflow serve --host/--port/--workers``) override these. Web processes
are stateless: anything shared lives in the database, so any number of them may run on any
number of hosts behind a load balancer.
"""

from __future__ import annotations

import os

# the factory is called once in each worker process, after the fork, so no database
# connection is ever shared between processes
wsgi_app = "webapp.app:create_app()"
preload_app = False

bind = [os.environ.get("PARKFLOW_BIND", "127.0.0.1:5000")]
workers = int(os.environ.get("PARKFLOW_WEB_WORKERS", "2"))
# gunicorn's threaded worker that listens only while it has a free thread (see the module):
# requests are CPU work in Python, whose threads take turns in one process, so one thread per
# process and more processes serve most; extra threads help only where slow clients talk to
# gunicorn directly (no buffering proxy in front)
worker_class = "webapp.gunicorn_worker.BalancedThreadWorker"
threads = int(os.environ.get("PARKFLOW_WEB_THREADS", "1"))

# gunicorn's largest request line (its default is 4094): the app answers any URL longer than
# webapp.app.MAX_URL_BYTES itself, with a JSON 414 for the API; only a request line beyond
# this still gets gunicorn's own plain 414 page, before the app could see it
limit_request_line = 8190
timeout = 60
graceful_timeout = 20
keepalive = 5
# recycle workers now and then so that slow leaks cannot pile up; not too often: a new worker
# imports the app and parses each procedure again on its first use of it (about 0.4 s of CPU
# and a few slow first answers), and at 2,000 requests a busy worker was replaced every 15 s
max_requests = 20000
max_requests_jitter = 2000
# each worker touches a file on every turn of its loop to tell the arbiter it is alive: in
# memory rather than on disk, as gunicorn advises (containers put /tmp on overlay disks)
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PARKFLOW_LOG_LEVEL", "info")
# X-Forwarded-* are honoured by the app itself (PARKFLOW_TRUSTED_PROXIES)
forwarded_allow_ips = "127.0.0.1"
proc_name = "parkflow-web"
# gunicorn's control socket sits at one path per user; several servers on one host (or a
# read-only home in a container) would trip over it, and nothing here uses it
control_socket_disable = True
