"""The operator console: server-rendered pages under /console for the people of an account."""

from runner.api.console.app import create_console

__all__ = ["create_console"]
