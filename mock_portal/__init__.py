"""A stand-alone fake of payer web portals (Acme Health, Beacon Exchange) for tests and demos.

It imports nothing of sopwright's and nothing of sopwright's imports it: tests and the CLI start it
as a separate server (`python -m mock_portal`). See mock_portal/README.md.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
