"""Cleaning establishment names taken from registers before they reach a catalog.

Why: register exports carry scraping debris. One IREP name holds a whole
``javascript:openWindowScroll('/gerep/…',520,300,'_blank');`` fragment inside the name, and
others carry markup, HTML entities, control characters or runs of spaces. A supplier name
shown to an advisor must be the name, nothing else. Vectorised over a pandas Series; the
count of changed names goes into the catalog manifest.
"""

from __future__ import annotations

import html
import re

import pandas as pd

# javascript:fn(args…); with one level of nested parentheses, or a bare javascript:… up to ';'
_SCRIPT = re.compile(r"javascript:\s*[\w.$]+\s*\((?:[^()]|\([^()]*\))*\)\s*;?|javascript:[^;\s]*;?", re.I)
_TAG = re.compile(r"<\s*/?\s*[A-Za-z][^<>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200d\ufeff]")
_SPACES = re.compile(r"\s+")


def clean_name(name: str) -> str:
    """One name without script fragments, markup, entities, control characters or repeated spaces."""
    s = _SCRIPT.sub("", name)
    if "&" in s:
        s = html.unescape(s)
    s = _TAG.sub(" ", s)
    s = _CONTROL.sub(" ", s)
    return _SPACES.sub(" ", s).strip(" ;,")


def clean_names(names: pd.Series) -> tuple[pd.Series, int]:
    """(cleaned names, how many changed); missing names stay missing, a name cleaned to nothing
    becomes missing (the loader then labels it by its SIRET)."""
    s = names.astype("string")
    suspect = s.str.contains(r"javascript:|[<>&\x00-\x1f\x7f-\x9f\u200b-\u200d\ufeff]|\s{2}", regex=True, na=False)
    if not suspect.any():
        return s, 0
    fixed = s[suspect].map(clean_name, na_action="ignore").astype("string")
    fixed = fixed.mask(fixed == "", pd.NA)
    changed = int((fixed.fillna("\0") != s[suspect].fillna("\0")).sum())
    out = s.copy()
    out[suspect] = fixed
    return out, changed
