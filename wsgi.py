"""WSGI entry point: ``gunicorn wsgi:app`` (production) and ``flask`` (via FLASK_APP=wsgi:app).

The configuration class comes from ``THRIVE_CONFIG`` (``production`` in deployments, ``development`` by
default); see :func:`thrive.config.config_from_env`.
"""
from thrive import create_app
from thrive.config import config_from_env

app = create_app(config_from_env())
