"""Marshmallow schemas of the JSON API that more than one resource uses."""
