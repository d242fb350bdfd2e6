"""gunicorn settings for Thrive (``gunicorn wsgi:app`` reads this file from the working directory).

Prometheus multiprocess mode (``thrive/metrics.py``): when ``PROMETHEUS_MULTIPROC_DIR`` is
set, the directory is emptied at start and a dead worker's files are marked.
"""
import os
import shutil


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from thrive.metrics import mark_process_dead

    mark_process_dead(worker.pid)
