"""Playwright step scripts: one package per portal (page objects + steps).

Handlers know nothing about the queue, the database or HTTP; they never import `runner`.
"""
