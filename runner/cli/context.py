"""What every command shares: settings (read once here), the wired core, output, and the error boundary."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from handlers.portals import portal_names
from runner.cli import logs
from runner.core.errors import SopwrightError
from runner.core.settings import Settings
from runner.core.system import System, build
from sops.errors import SopsError

out = Console()
err = Console(stderr=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        fail(
            "Invalid setting: "
            + "; ".join(f"SOPWRIGHT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        )


def configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_level, settings.log_format.value)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def boundary() -> Iterator[None]:
    """Translate our errors into one-line messages and an exit code; never a stack trace."""
    try:
        yield
    except SopwrightError as exc:
        fail(exc.message)
    except SopsError as exc:
        fail(str(exc))


@contextmanager
def system() -> Iterator[System]:
    settings = load_settings()
    configure_logging(settings)
    with boundary():
        core = build(settings, portal_names=portal_names())
        try:
            yield core
        finally:
            core.close()


def freeze_start_up_objects() -> None:
    """For a long-running command, once it has started: every object alive now (modules, classes,
    the SOP library, the ICD-10-CM code set) is moved out of the garbage collector's reach, so its
    full collections walk only what the process made since. A worker's full collections paused it
    70-76 ms every ~10 s at 0 ms portal latency (bench/timeline/sitecustomize.py's PWG lines)."""
    gc.freeze()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))
