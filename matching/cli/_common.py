"""Shared CLI plumbing: turning RelocmatchError into a one-line message and exit 1."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer

from matching.errors import RelocmatchError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print a RelocmatchError as one line on stderr and exit 1 (never a traceback)."""
    try:
        yield
    except RelocmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None


def cli_actor() -> str:
    """The audit log's "who" for a command run on this machine: ``cli:<os user>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
