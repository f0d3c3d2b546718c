"""The error family: each error says what went wrong, where, and what was expected.

Edges (CLI, API) catch `RelocmatchError` and print/return its message; anything else
is a bug and must surface as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class RelocmatchError(Exception):
    """Base class of every error relocmatch raises on purpose."""


class DataError(RelocmatchError):
    """A reference-data file is missing or malformed."""

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class CodeError(RelocmatchError, ValueError):
    """A product or activity code cannot be parsed or is unknown."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(message)


class CatalogError(RelocmatchError):
    """A supplier catalog cannot be built or loaded."""


@dataclass(frozen=True)
class RowProblem:
    """One bad row (or cell) of an input file: where it is and what was expected."""

    row: int | None
    column: str | None
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return (", ".join(where) + ": " if where else "") + self.message


class BomError(RelocmatchError):
    """A BOM file cannot be read at all; lists every problem found, not just the first."""

    def __init__(self, message: str, *, path: str | None = None, problems: list[RowProblem] | None = None) -> None:
        self.path = path
        self.problems = list(problems or [])
        head = f"{path}: {message}" if path else message
        if self.problems:
            head += "; " + "; ".join(str(p) for p in self.problems[:10])
            if len(self.problems) > 10:
                head += f"; ... and {len(self.problems) - 10} more"
        super().__init__(head)


class ConfigError(RelocmatchError, ValueError):
    """A configuration value is out of range or inconsistent."""
