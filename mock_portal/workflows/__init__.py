"""Payer-neutral business logic of the four workflows; the payers' routes parse forms into these
(status_pages.py also draws the status pages every payer shares)."""
