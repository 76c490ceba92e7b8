"""WSGI entry point and the ``flask --app app`` CLI."""

from broker.factory import create_app

app = create_app()
