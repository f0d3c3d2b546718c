"""Texts per code from the nomenclature: the training corpus of the learned product model.

Why: the CN8/TARIC labels exist in French, English and German for the same codes, with a
hierarchy. A TARIC line's own text is a fragment ("autres", "Other", "andere", "For doors"):
its meaning is its full path, so every line is read with its ancestors (by ``hier_pos`` and the
dashes of ``indent``). Per HS6 subheading the corpus holds the CN8 self-explanatory texts, the
TARIC paths (most specific fragment first, "Other" fragments dropped) and the HS 2022 label, in
three languages: a parallel corpus from which the model learns that "Scharniere", "charnières"
and "hinges" point to the same subheading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matching.text import fold

LANGS = ("fr", "en", "de")
# Exclusion clauses ("(à l'excl. ...)", "(sauf ...)", "(excl. ...)", "(ausg. ...)"): words the product is NOT.
_EXCL_RE = re.compile(
    r"\((?:\s*(?:à|a)\s+l['’]excl|\s*excl\.|\s*ausg\.|\s*sauf|\s*other than|\s*autres que|\s*andere als|"
    r"\s*non compris|\s*excluding|\s*ausgenommen)[^()]*(?:\([^()]*\)[^()]*)*\)",
    re.IGNORECASE,
)
_FILLER_RE = re.compile(r"\b(?:n\.d\.a\.|a\.n\.g\.|n\.e\.s\.|n\.e\.c\.|nda|ang)\b", re.IGNORECASE)
_OTHER = frozenset({"autres", "autre", "other", "others", "andere", "anderer", "anderes", "sonstige", "sonstiges"})


def clean(text: str) -> str:
    """A label without exclusion clauses and filler abbreviations, whitespace collapsed."""
    t = _FILLER_RE.sub(" ", _EXCL_RE.sub(" ", text or ""))
    return " ".join(t.split()).replace(" ,", ",").strip(" ,;:")


def is_other(fragment: str) -> bool:
    """A TARIC fragment that means "the rest of my parent" ("autres", "Other", "andere")."""
    words = re.findall(r"[a-z]+", fold(fragment))
    return bool(words) and words[0] in _OTHER and len(words) <= 3


@dataclass(frozen=True)
class CodeText:
    code: str  # CN8 (or HS6 for subheading-level texts)
    lang: str
    kind: str  # "cn8" self-explanatory text, "path" TARIC path, "hs" HS 2022 label
    text: str


def taric_paths(rows: Iterable[tuple[str, str, int, str, str]]) -> list[tuple[str, list[str]]]:
    """(code10, [fragments from the heading down]) for every real TARIC line below the heading level.

    ``rows``: (code10, suffix, hier_pos, indent, description) in file order. The depth of a row
    below its heading is the number of dashes of its indent; grouping rows (suffix ≠ "80") are
    ancestors only.
    """
    out: list[tuple[str, list[str]]] = []
    heading = ""
    stack: list[str] = []
    for code10, suffix, hier_pos, indent, desc in rows:
        if hier_pos <= 2:
            continue
        if hier_pos == 4:
            heading, stack = desc, []
            continue
        level = max(1, indent.count("-"))
        del stack[level - 1:]
        while len(stack) < level - 1:
            stack.append("")
        stack.append(desc)
        if suffix == "80":
            out.append((code10, [heading, *stack]))
    return out


def path_text(fragments: list[str], *, max_fragments: int = 3, max_chars: int = 240) -> str:
    """The heading's first clause, then the line's ancestors down to itself ("Other" ones dropped).

    "Garnitures, pour bâtiments, pour portes": general to specific, as a buyer names a thing
    and then says which. At most ``max_fragments`` fragments below the heading (the most
    specific ones) and ``max_chars`` characters (TARIC lines can be a page of specifications).
    """
    own = [clean(f) for f in fragments[1:] if f and not is_other(f)]
    own = [f for f in own if f][-max_fragments:]
    head = clean(re.split(r"[;:]", fragments[0])[0]) if fragments and fragments[0] else ""
    head = head.split(",")[0].strip()
    text = ", ".join(p for p in [head, *own] if p)
    return text[:max_chars].rsplit(" ", 1)[0] if len(text) > max_chars else text


def build_corpus(data_dir: str | Path | None = None) -> list[CodeText]:
    """Every text of the corpus (CN8 texts, TARIC paths, HS 2022 subheadings) for codes in CN 2023."""
    from matching import refdata

    out: list[CodeText] = []
    cn8_codes: set[str] = set()
    for lang in LANGS:
        df = refdata.load_cn8(lang, data_dir)
        for code, desc in zip(df["code"], df["description"]):
            cn8_codes.add(code)
            t = clean(desc)
            if t:
                out.append(CodeText(code, lang, "cn8", t))
    hs6 = {c[:6] for c in cn8_codes}
    for lang in LANGS:
        t = refdata.load_taric(lang, data_dir)
        rows = zip(t["code10"], t["suffix"], t["hier_pos"], t["indent"].fillna(""), t["description"])
        seen: set[tuple[str, str]] = set()
        for code10, frags in taric_paths(rows):
            if code10[:6] not in hs6:
                continue
            text = path_text(frags)
            code = code10[:8] if code10[:8] in cn8_codes else code10[:6]
            if text and (code, text) not in seen:
                seen.add((code, text))
                out.append(CodeText(code, lang, "path", text))
    hs = refdata.load_hs2022(data_dir)
    for code, desc in zip(hs["hscode"], hs["description"]):
        if len(code) == 6 and code in hs6:
            out.append(CodeText(code, "en", "hs", clean(desc)))
    return out
