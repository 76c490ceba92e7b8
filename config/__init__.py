"""Settings (defaults → instance secrets → environment → override) and shipped data."""
