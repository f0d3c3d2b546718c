"""Reading BOM / purchase-list files into `BomLine`s, telling the user what was understood.

`read_bom` accepts CSV/TSV/TXT (any delimiter, UTF-8/UTF-16/cp1252), XLSX/XLSM/XLS,
ODS and JSON. Every row of the chosen sheet comes out exactly once, as an item line
(status ``ok`` / ``warning``) or as a ``skipped`` line whose messages say why (blank,
total, section, header, preamble...), with its original 1-based row number: nothing
is silently dropped. The layout (format, encoding, header row, column roles and the
evidence for each) is returned so an advisor can check it or override it with a mapping.

Helpers: `source` (bytes → raw tables, safety limits), `layout` (header and
column roles), `values` (numbers, quantities, money, countries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matching.bom.layout import (
    MONEY_ROLES,
    ROLES,
    Layout,
    column_letter,
    detect_layout,
    fold,
    letter_index,
    set_money_units,
)
from matching.bom.source import BomLimits, RawSheet, load_source
from matching.bom.values import (
    cell_text,
    is_empty_text,
    parse_country,
    parse_money,
    parse_quantity,
    unneutralise,
)
from matching.errors import BomError, CodeError
from matching.types import BomLine

__all__ = ["BomLimits", "BomLayout", "RowReport", "BomReadResult", "read_bom", "ROLES"]


@dataclass(frozen=True)
class BomLayout:
    """What the reader understood about the file's structure, with the evidence."""

    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: tuple[str, ...]
    header_row: int | None  # 1-based row number of the header, None when there is none
    columns: dict[str, str]  # role → header text as written (or "column C" when unnamed)
    column_letters: dict[str, str]  # role → spreadsheet letter
    evidence: dict[str, str]  # role → why this column
    decimal: str | None  # decimal mark used for ambiguous numbers
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "sheets": list(self.sheets),
            "header_row": self.header_row,
            "columns": dict(self.columns),
            "column_letters": dict(self.column_letters),
            "evidence": dict(self.evidence),
            "decimal": self.decimal,
            "notes": list(self.notes),
        }


RowKind = str  # "item" | "blank" | "total" | "section" | "header" | "repeated_header" | "preamble" | "no_text"


@dataclass(frozen=True)
class RowReport:
    """How one input row was classified (one per row of the chosen sheet)."""

    row: int
    sheet: str | None
    kind: RowKind
    status: str
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class BomReadResult:
    lines: list[BomLine]
    layout: BomLayout
    rows: list[RowReport] = field(default_factory=list)

    @property
    def items(self) -> list[BomLine]:
        """The lines that are input items (status ok or warning)."""
        return [ln for ln in self.lines if ln.status != "skipped"]


_TOTAL_RE = re.compile(
    r"^(?:sous total|sub ?total|total|totaux|gesamt\w*|zwischensumme|summe|somme|grand total|montant total|"
    r"endsumme|insgesamt|sum)\b"
)
_TOTAL_INITIALS = set("stgzei")
_DNP_WORDS = {"dnp", "dnf", "do not populate", "do not place", "do not fit", "not fitted", "nicht bestuckt",
              "nicht bestucken", "non monte", "ne pas monter", "no pop"}
_SECTION_MARKER = re.compile(r"^(?:#+.*|.*:|=+.*=+|-{2,}.*-{2,}|\[.*\])$")


def _is_total_text(t: str) -> bool:
    s = t.strip()
    if not s or len(s) > 60 or s[0].lower() not in _TOTAL_INITIALS:
        return False  # "@SUM(...)" is formula-like text, not a total label
    return bool(_TOTAL_RE.match(fold(s)))


def read_bom(
    source: str | Path | bytes,
    *,
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    limits: BomLimits | None = None,
) -> BomReadResult:
    """Read a BOM file (path or bytes) into lines, layout and a per-row report.

    ``mapping`` (role → column letter ``"B"``, 1-based index ``"2"`` or header text)
    overrides detection; an empty column (``{"unit_price": ""}``) says the file has no such
    column, so nothing is read or derived from it (a value from unit price × quantity included);
    ``sheet`` picks a sheet by name instead of the best-scoring one.
    Raises BomError with a one-line reason when the file cannot be read at all.
    """
    limits = limits or BomLimits()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        p = Path(source)
        filename = filename or p.name
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise BomError(f"cannot open file ({exc.strerror})", path=str(source)) from None
        if size > limits.max_bytes:
            raise BomError(
                f"file is {size / 2**20:.1f} MiB, above the limit of {limits.max_bytes / 2**20:.0f} MiB "
                "(raise BomLimits.max_bytes to read it)",
                path=filename,
            )
        if p.is_dir():
            raise BomError("is a directory, expected a file", path=str(source))
        data = p.read_bytes()
    if mapping:
        bad = [r for r in mapping if r not in ROLES]
        if bad:
            raise BomError(f"unknown role(s) in mapping: {', '.join(bad)}; expected one of {', '.join(ROLES)}", path=filename)
        if not str(mapping.get("description", "x")).strip():
            raise BomError("mapping description=: the description column cannot be removed, give its column", path=filename)
    src = load_source(data, filename, limits)

    # choose the sheet: by name, else the one that looks most like a BOM table
    candidates: list[tuple[RawSheet, Layout]] = []
    if sheet is not None:
        chosen = [s for s in src.sheets if s.name == sheet]
        if not chosen:
            names = ", ".join(repr(s.name) for s in src.sheets)
            raise BomError(f"no sheet named {sheet!r} (sheets: {names})", path=filename)
        sheets = chosen
    else:
        sheets = [s for s in src.sheets if any(any(not is_empty_text(cell_text(v)) for v in r) for r in s.rows)]
        if not sheets:
            raise BomError("file is empty (no non-blank cell in any sheet)", path=filename)
    for s in sheets:
        candidates.append((s, detect_layout(s.rows, fixed_header=s.fixed_header)))
    raw, lay = max(candidates, key=lambda c: c[1].score)

    notes = list(src.notes) + list(lay.notes)
    if len(src.sheets) > 1 and sheet is None:
        others = [s.name for s in src.sheets if s is not raw]
        notes.append(f"sheet {raw.name!r} chosen (best header and item rows); other sheets not read: {others}")
    if mapping:
        before = {r: lay.roles.get(r) for r in MONEY_ROLES}
        detected = dict(lay.roles)
        _apply_mapping(lay, mapping, filename)
        notes += [f"{r} column: none (explicit mapping {r}=, detected {_column_name(lay, detected[r])!r})"
                  for r in mapping if r in detected and r not in lay.roles]
        if any(lay.roles.get(r) != before[r] for r in MONEY_ROLES):
            # a money column moved: its currency and scale are those of the header now mapped
            money_notes = [n for n in lay.notes if n.startswith(tuple(f"{r} column " for r in MONEY_ROLES))]
            notes = [n for n in notes if n not in money_notes]
            added: list[str] = []
            set_money_units(lay, added)
            notes += added

    if raw.fixed_header is None and lay.header_row_index is None and not mapping:
        notes.append("no header row found: columns are named by letter and roles come from value patterns")
    lines, reports = _rows_to_lines(raw, lay)
    n_items = sum(1 for ln in lines if ln.status != "skipped")
    if n_items == 0:
        below = [rep for rep in reports if rep.kind not in ("preamble", "header", "blank")]
        if not below and (lay.header_row_index is not None or raw.fixed_header is not None):
            raise BomError("header-only file: a header row was found but no rows below it", path=filename)
        kinds: dict[str, int] = {}
        for rep in below:
            kinds[rep.kind] = kinds.get(rep.kind, 0) + 1
        desc = lay.roles.get("description")
        where = f" (description column {_column_name(lay, desc)!r})" if desc is not None else ""
        raise BomError(
            "no item rows found: "
            + (", ".join(f"{n} {k.replace('_', ' ')}" for k, n in kinds.items()) or "every row is blank")
            + where,
            path=filename,
        )

    layout = BomLayout(
        format=src.format,
        encoding=src.encoding,
        delimiter=src.delimiter,
        sheet=raw.name,
        sheets=tuple(s.name or "" for s in src.sheets) if src.sheets[0].name is not None else (),
        header_row=(raw.row_numbers[lay.header_row_index] if lay.header_row_index is not None else None),
        columns={r: _column_name(lay, j) for r, j in lay.roles.items()},
        column_letters={r: column_letter(j) for r, j in lay.roles.items()},
        evidence=dict(lay.evidence),
        decimal=lay.decimal,
        notes=tuple(notes),
    )
    return BomReadResult(lines=lines, layout=layout, rows=reports)


def _column_name(lay: Layout, j: int) -> str:
    h = lay.headers[j].strip() if j < len(lay.headers) else ""
    return h or f"column {column_letter(j)}"


def _apply_mapping(lay: Layout, mapping: dict[str, str], filename: str | None) -> None:
    """Explicit role → column choices override detection (letter, 1-based index or header text);
    an empty choice removes the role."""
    ncols = len(lay.headers)
    for role, spec in mapping.items():
        s = str(spec if spec is not None else "").strip()
        if not s:
            lay.roles.pop(role, None)
            lay.evidence.pop(role, None)
            continue
        j: int | None = None
        exact = [i for i, h in enumerate(lay.headers) if h.strip() and h.strip().lower() == s.lower()]
        if exact:
            j = exact[0]
        elif re.fullmatch(r"[A-Za-z]{1,3}", s):
            j = letter_index(s)
        elif s.isdigit():
            j = int(s) - 1
        if j is None or j < 0 or j >= ncols:
            cols = ", ".join(f"{column_letter(i)}={h.strip()!r}" for i, h in enumerate(lay.headers) if h.strip())
            raise BomError(
                f"mapping {role}={spec!r}: no such column (the table has {ncols} columns"
                + (f": {cols}" if cols else "")
                + "); give a letter (B), a 1-based index (2) or a header text",
                path=filename,
            )
        prev = lay.roles.get(role)
        if role == "description" and prev is not None and prev != j and prev not in lay.alt_description:
            lay.alt_description.insert(0, prev)
        for r, c in list(lay.roles.items()):
            if c == j and r != role:
                del lay.roles[r]
                lay.evidence.pop(r, None)
        lay.roles[role] = j
        lay.evidence[role] = f"explicit mapping {role}={spec}"
        if role == "description":
            lay.alt_description = [c for c in lay.alt_description if c != j]


def _rows_to_lines(raw: RawSheet, lay: Layout) -> tuple[list[BomLine], list[RowReport]]:
    rows, numbers, name = raw.rows, raw.row_numbers, raw.name
    hi = lay.header_row_index
    roles = lay.roles
    dj = roles.get("description")
    labelled = (
        sorted({j for j, h in enumerate(lay.headers) if h.strip()} | set(roles.values()))
        if (hi is not None or raw.fixed_header)
        else None
    )
    leftmost = min(labelled) if labelled else 0
    header_f = [fold(h) for h in lay.headers]
    header_named = [i for i, h in enumerate(header_f) if h]
    header_l = [h.strip().lower() for h in lay.headers]
    numeric_roles = [roles[r] for r in ("quantity", "value", "unit_price", "code") if r in roles]

    start = (hi + 1) if hi is not None else 0
    # typical number of filled labelled cells on a row: a lone cell on a busy table is a section title
    counts = []
    for r in rows[start : start + 2000]:
        c = _filled(r, labelled)
        if c:
            counts.append(c)
    # a lone cell is a section title only on a busy table where lone cells are rare and an item
    # follows: a purchase list whose code-less lines give only a description (a third of its rows
    # or more, or the rows after the last busy one) is a list of items, not of sections
    lone_share = sum(1 for c in counts if c == 1) / len(counts) if counts else 0.0
    last_busy = next((i for i in range(len(rows) - 1, start - 1, -1) if _filled(rows[i], labelled) >= 2), -1)
    counts.sort()
    typical = counts[len(counts) // 2] if counts else 1

    lines: list[BomLine] = []
    reports: list[RowReport] = []

    def skip(i: int, kind: str, msg: str) -> None:
        rn = numbers[i]
        lines.append(BomLine(row=rn, sheet=name, status="skipped", messages=(msg,)))
        reports.append(RowReport(row=rn, sheet=name, kind=kind, status="skipped", messages=(msg,)))

    for i in range(len(rows)):
        r = rows[i]
        if hi is not None and i < hi:
            txt = _row_preview(r)
            if txt:
                skip(i, "preamble", f"above the header row (title or preamble): {txt}")
            else:
                skip(i, "blank", "blank row (above the header)")
            continue
        if hi is not None and i == hi:
            skip(i, "header", "header row")
            continue
        texts = [cell_text(v) for v in r]
        content = [j for j, t in enumerate(texts) if not is_empty_text(t) and not _is_zero(r[j])]
        if not content:
            skip(i, "blank", "blank row" if not any(t.strip() for t in texts) else "blank row (only zeros or dashes)")
            continue
        if header_named and len(header_named) >= 2:
            same = sum(1 for j in header_named if j < len(texts) and texts[j].strip().lower() == header_l[j])
            if same >= max(2, 0.6 * len(header_named)):
                skip(i, "repeated_header", "repeated header row")
                continue
        desc_t = texts[dj] if dj is not None and dj < len(texts) else ""
        tot = next((texts[j] for j in content if _is_total_text(texts[j])), None)
        if tot is not None and (is_empty_text(desc_t) or _is_total_text(desc_t)):
            skip(i, "total", f"total row ({tot!r})")
            continue
        in_labels = [j for j in content if labelled is None or j in labelled]
        if (
            len(in_labels) == 1
            and content[0] == in_labels[0]
            and not any(j in content and _numeric_cell(r[j], lay.decimal) for j in numeric_roles)
        ):
            j = in_labels[0]
            t = texts[j]
            marked = _SECTION_MARKER.match(t.strip())
            if (j == leftmost or marked) and not isinstance(r[j], (int, float)) and (
                marked or (typical >= 2 and lone_share < 1 / 3 and i < last_busy)
            ):
                skip(i, "section", f"section row ({t.strip()!r})")
                continue
        dnp = next((texts[j] for j in content if len(texts[j]) <= 20 and texts[j][:1] in "dDnN" and fold(texts[j]) in _DNP_WORDS), None)
        if dnp is not None:
            skip(i, "dnp", f"not populated ({dnp!r}: do not place/populate): not a purchased item")
            continue
        line = _item_line(r, texts, numbers[i], name, lay)
        if line is None:
            skip(i, "no_text", "no description, reference or code on this row: " + _row_preview(r))
            continue
        lines.append(line)
        reports.append(RowReport(row=numbers[i], sheet=name, kind="item", status=line.status, messages=line.messages))
    return lines, reports


def _filled(r: list[object], labelled: list[int] | None) -> int:
    idx = range(len(r)) if labelled is None else [j for j in labelled if j < len(r)]
    return sum(1 for j in idx if not is_empty_text(cell_text(r[j])) and not _is_zero(r[j]))


def _numeric_cell(v: object, decimal: str | None) -> bool:
    return parse_money(v, decimal) is not None or parse_quantity(v, decimal) is not None


def _is_zero(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0


def _row_preview(r: list[object]) -> str:
    parts = [cell_text(v) for v in r]
    parts = [p for p in parts if p.strip()]
    s = " | ".join(parts)
    return s[:80] + ("…" if len(s) > 80 else "")


def _get(texts: list[str], j: int | None) -> str:
    if j is None or j >= len(texts):
        return ""
    t = texts[j]
    return "" if is_empty_text(t) else unneutralise(t)


VALUE_FROM_PRICE = "valeur = prix unitaire × quantité"


def _value_from_price(r: list[object], texts: list[str], lay: Layout, qty: float) -> tuple[float | None, str | None]:
    """Value of a line from its unit price × quantity, when the file has no value (total)
    column of its own: (value, the note saying so) or (None, None)."""
    pj = lay.roles.get("unit_price")
    if pj is None or pj >= len(r) or is_empty_text(texts[pj]):
        return None, None
    m = parse_money(r[pj], lay.decimal)
    if m is None:
        return None, None
    cur = m.currency or lay.price_currency
    if cur not in (None, "EUR"):
        return None, None
    value = m.amount * lay.price_scale * qty
    return value, f"{VALUE_FROM_PRICE} ({m.amount * lay.price_scale:g} × {qty:g})"


def _item_line(r: list[object], texts: list[str], rn: int, sheet: str | None, lay: Layout) -> BomLine | None:
    roles = lay.roles
    msgs: list[str] = []
    warn = False
    desc = _get(texts, roles.get("description"))
    reference = _get(texts, roles.get("reference")) or None
    if not desc:
        for j in lay.alt_description:
            alt = _get(texts, j)
            if alt:
                desc = alt
                msgs.append(f"description empty: used column {_column_name(lay, j)!r} ({alt[:40]!r})")
                warn = True
                break
    code = code_raw = None
    cj = roles.get("code")
    if cj is not None and cj < len(texts) and not is_empty_text(texts[cj]):
        code_raw = texts[cj]
        from matching.codes import parse_code

        try:
            code = parse_code(code_raw).digits
        except CodeError as exc:
            msgs.append(f"invalid code: {exc}")
            warn = True
    if not desc and not code and not code_raw:
        return None
    origin = None
    oj = roles.get("origin")
    if oj is not None and oj < len(texts) and not is_empty_text(texts[oj]):
        origin = parse_country(texts[oj])
        if origin is None:
            msgs.append(f"origin {texts[oj]!r} is not a recognised country")
            warn = True
    qty = unit = None
    qj = roles.get("quantity")
    if qj is not None and qj < len(r) and not is_empty_text(texts[qj]):
        q = parse_quantity(r[qj], lay.decimal)
        if q is None:
            msgs.append(f"quantity {texts[qj]!r} is not a number")
            warn = True
        else:
            qty, unit = q.value, q.unit
    uj = roles.get("unit")
    if uj is not None:
        u = _get(texts, uj)
        if u:
            unit = u
    value = None
    vj = roles.get("value")
    if vj is not None and vj < len(r) and not is_empty_text(texts[vj]):
        m = parse_money(r[vj], lay.decimal)
        if m is not None and m.currency is None and lay.value_currency and lay.value_currency != "EUR":
            m = None  # amounts in a non-EUR column: said once in the layout notes
        elif m is None:
            msgs.append(f"value {texts[vj]!r} is not an amount")
            warn = True
        elif m.currency not in (None, "EUR"):
            msgs.append(f"value {texts[vj]!r} is in {m.currency}, not converted to EUR")
            warn = True
        else:
            value = m.amount * lay.value_scale
    elif vj is None and qty is not None:
        value, why = _value_from_price(r, texts, lay, qty)
        if why:
            msgs.append(why)
    if value is not None and value < 0:
        from matching.line_checks import negative_value_warning

        msgs.append(negative_value_warning(value))
        warn = True
    supplier = _get(texts, roles.get("supplier")) or None
    return BomLine(
        row=rn,
        description=desc,
        code=code,
        code_raw=code_raw,
        origin_country=origin,
        annual_value_eur=value,
        quantity=qty,
        unit=unit,
        reference=reference,
        supplier=supplier,
        sheet=sheet,
        status="warning" if warn else "ok",
        messages=tuple(msgs),
    )

