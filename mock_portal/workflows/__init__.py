"""Payer-neutral business logic of the four workflows; the payers' routes parse forms into these."""
