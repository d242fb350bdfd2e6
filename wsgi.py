"""WSGI entry point: ``gunicorn wsgi:app`` (production) and ``flask`` (via .flaskenv)."""
from thrive import create_app

app = create_app()
