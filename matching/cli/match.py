"""Top-level `relocmatch` verbs owned by this module (placeholder until its issue lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's verbs to the root app."""
