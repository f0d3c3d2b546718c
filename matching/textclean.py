"""The one rule for text that enters relocmatch (BOM cells, every string of the HTTP API).

Real ERP exports and hand-typed requests carry characters no writer downstream accepts:
openpyxl refuses C0 control characters in a cell (``IllegalCharacterError``), PostgreSQL
refuses NUL in ``text``, and a lone UTF-16 surrogate cannot be encoded as UTF-8 at all.
Cleaning once, where text enters, means no writer has to be patched and nothing stored
can break a later export.

The rule (``clean_text``), applied to every string:

- tab, line feed and carriage return are kept (they are text: a cell with a line break);
- the separators vertical tab, form feed, the C0 information separators (U+001C-U+001F)
  and NEL (U+0085) become a space: ERP exports use them as line or field breaks inside a
  cell ("Vis\\x0bInox" is two words, not "VisInox");
- every other C0 control (U+0000-U+0008, U+000E-U+001B, NUL included), DEL (U+007F) and
  the other C1 controls (U+0080-U+009F) are removed: they carry no text (a NUL, a bell,
  an escape) and removing them leaves the visible text as it was;
- a lone surrogate (U+D800-U+DFFF, only possible from a JSON ``\\ud800`` escape) becomes
  U+FFFD, the replacement character, as a decoder would have done.

Nothing else changes: no trimming, no normalisation (``matching.text`` normalises for
matching; what is stored and exported is what the user wrote, minus the above).
"""

from __future__ import annotations

import re

_TO_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_REMOVED = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, *range(0x80, 0x85), *range(0x86, 0xA0)])
_TABLE = {**{ord(c): " " for c in _TO_SPACE}, **{ord(c): None for c in _REMOVED}}
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` under the input rule above (returned unchanged, same object, when clean)."""
    if not _NEEDS.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text.translate(_TABLE))


def clean_value(value: object) -> object:
    """``clean_text`` for strings; any other value as it is (numbers, dates, None)."""
    return clean_text(value) if isinstance(value, str) else value


def is_clean(text: str) -> bool:
    """True when ``clean_text`` would leave ``text`` as it is."""
    return _NEEDS.search(text) is None


__all__ = ["clean_text", "clean_value", "is_clean"]
