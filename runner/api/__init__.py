"""The HTTP API (FastAPI). It validates, calls one core service, returns a schema; it never runs a browser."""
