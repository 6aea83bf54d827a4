"""gunicorn's settings for Evidence Media: `gunicorn` started in the repository reads this file by itself (or name it
with `-c`). Anything here can be overridden on the command line or in GUNICORN_CMD_ARGS.

Python runs one thread at a time per process, so the worker processes are what use the cores: one per core this
process may run on, or WEB_CONCURRENCY of them. Each has a few threads, so that a request waiting on the database,
a disk write or a slow upload does not keep the pages behind it waiting. Task clusters on the same machine run at a
lower priority (EVIDENCEMEDIA_Q_NICE) and take only the CPU the pages leave.
"""

import os

wsgi_app = "evidencemedia.wsgi"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "0")) or len(os.sched_getaffinity(0))
threads = 4
# Longer than a browser's pause between two requests of one page view, so that they share a connection.
keepalive = 5
# A worker silent this long is restarted; uploads stream in threads and keep their worker heard from.
timeout = 120
