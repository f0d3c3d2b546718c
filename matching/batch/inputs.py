"""Finding the companies of a batch and reading their lines.

INPUT is one of:
- a folder of BOM files: each file is one company, named after the file (without suffix);
- a manifest CSV with columns ``company,file[,buyer]`` (files relative to the manifest);
- one Parquet table of lines: ``company, line_id, description`` and optionally ``code,
  origin_country, annual_value_eur, buyer, quantity, unit, reference, supplier``.

A structural problem (missing column, empty company, duplicate line id, two files for one
company) stops the batch with an error naming the file, line and column. A BOM file that
cannot be read is a per-company failure: it is reported in ``summary.csv`` and the other
companies go on.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from matching.batch.rows import INPUT_SCHEMA, input_row
from matching.errors import BomError, RelocmatchError, RowProblem
from matching.types import BomLine

BOM_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods", ".json")
TABLE_REQUIRED = ("company", "line_id", "description")
TABLE_OPTIONAL = ("code", "origin_country", "annual_value_eur", "buyer", "quantity", "unit", "reference", "supplier")
MANIFEST_REQUIRED = ("company", "file")


class BatchInputError(BomError):
    """The batch's INPUT cannot be used at all (says which file, line and column)."""


@dataclass
class CompanyInput:
    """One company of the batch: where its lines come from and a fingerprint of them."""

    company: str
    source: str  # the BOM file, or the Parquet table
    buyer: str | None = None
    path: Path | None = None  # BOM file to read (None: lines already in ``table``)
    table: pa.Table | None = None  # INPUT_SCHEMA rows, for a Parquet lines table
    fingerprint: str = ""
    missing: str | None = None  # why the file cannot be opened (manifest pointing nowhere)


@dataclass
class BatchInput:
    kind: str  # "folder" | "manifest" | "table"
    path: Path
    companies: list[CompanyInput] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _file_fingerprint(path: Path, buyer: str | None) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    return _sha(data, (buyer or "").encode())


def discover(path: str | Path) -> BatchInput:
    """The companies of INPUT (folder, manifest CSV or Parquet table), in a stable order."""
    p = Path(path)
    if not p.exists():
        raise BatchInputError("no such file or folder", path=str(p))
    if p.is_dir():
        return _folder(p)
    suffix = p.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _table(p)
    if suffix in (".csv", ".tsv", ".txt"):
        return _manifest(p)
    raise BatchInputError(f"unknown input {suffix or 'without suffix'!r}: expected a folder of BOM files, "
                          "a manifest CSV (company,file,buyer) or a Parquet table of lines", path=str(p))


def _folder(p: Path) -> BatchInput:
    files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith((".", "~$"))
                   and f.suffix.lower() in BOM_SUFFIXES)
    by_company: dict[str, Path] = {}
    problems = []
    for f in files:
        c = f.stem.strip()
        if c in by_company:
            problems.append(RowProblem(None, None, f"{by_company[c].name!r} and {f.name!r} are both company {c!r}"))
            continue
        by_company[c] = f
    if problems:
        raise BatchInputError("two files for one company (a company is named after its file; rename one)",
                              path=str(p), problems=problems)
    if not by_company:
        raise BatchInputError(f"no BOM file in the folder (expected {', '.join(BOM_SUFFIXES)})", path=str(p))
    out = BatchInput("folder", p)
    for c, f in by_company.items():
        out.companies.append(CompanyInput(c, f.name, None, f, fingerprint=_file_fingerprint(f, None)))
    ignored = [f.name for f in p.iterdir() if f.is_file() and f not in files and not f.name.startswith(".")]
    if ignored:
        out.notes.append(f"not BOM files, ignored: {', '.join(sorted(ignored))}")
    return out


def _manifest(p: Path) -> BatchInput:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    header = next(reader, None)
    if header is None:
        raise BatchInputError("empty manifest: expected a header line company,file[,buyer]", path=str(p))
    cols = [h.strip().lower() for h in header]
    missing = [c for c in MANIFEST_REQUIRED if c not in cols]
    if missing:
        raise BatchInputError(f"line 1: manifest has no column {', '.join(missing)} (header: {', '.join(header)}); "
                              "expected company,file[,buyer]", path=str(p))
    ic, jf = cols.index("company"), cols.index("file")
    jb = cols.index("buyer") if "buyer" in cols else None
    out = BatchInput("manifest", p)
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for n, rec in enumerate(reader, start=2):
        if not any(x.strip() for x in rec):
            continue
        cell = (lambda j: rec[j].strip() if j is not None and j < len(rec) else "")  # noqa: E731
        company, file, buyer = cell(ic), cell(jf), cell(jb) or None
        if not company:
            problems.append(RowProblem(n, "company", "empty company"))
            continue
        if not file:
            problems.append(RowProblem(n, "file", f"company {company!r}: empty file"))
            continue
        if company in seen:
            problems.append(RowProblem(n, "company", f"company {company!r} already on line {seen[company]}"))
            continue
        seen[company] = n
        f = Path(file)
        if not f.is_absolute():
            f = p.parent / f
        ci = CompanyInput(company, file, buyer, f, fingerprint=_file_fingerprint(f, buyer))
        if not f.is_file():
            ci.missing = f"line {n}, column file: {file!r} not found" + (" (a folder)" if f.is_dir() else "")
        out.companies.append(ci)
    if problems:
        raise BatchInputError("bad manifest", path=str(p), problems=problems)
    if not out.companies:
        raise BatchInputError("manifest lists no company", path=str(p))
    return out


def _table(p: Path) -> BatchInput:
    import pyarrow.parquet as pq

    try:
        t = pq.read_table(p)
    except (OSError, pa.ArrowException) as exc:
        raise BatchInputError(f"cannot read the Parquet table ({exc})", path=str(p)) from None
    missing = [c for c in TABLE_REQUIRED if c not in t.column_names]
    if missing:
        raise BatchInputError(f"no column {', '.join(missing)} (columns: {', '.join(t.column_names)}); expected "
                              f"{', '.join(TABLE_REQUIRED)} and optionally {', '.join(TABLE_OPTIONAL)}", path=str(p))
    out = BatchInput("table", p)
    extra = [c for c in t.column_names if c not in TABLE_REQUIRED + TABLE_OPTIONAL]
    if extra:
        out.notes.append(f"columns not used: {', '.join(extra)}")
    for c in ("company", "line_id", "description", "code", "origin_country", "buyer", "unit", "reference", "supplier"):
        if c in t.column_names and not (pa.types.is_string(t.schema.field(c).type)
                                        or pa.types.is_large_string(t.schema.field(c).type)
                                        or (c in ("line_id", "company", "code", "buyer")
                                            and pa.types.is_integer(t.schema.field(c).type))):
            raise BatchInputError(f"column {c}: type {t.schema.field(c).type}, expected text", path=str(p))
    for c in ("annual_value_eur", "quantity"):
        if c in t.column_names:
            ty = t.schema.field(c).type
            if not (pa.types.is_integer(ty) or pa.types.is_floating(ty) or pa.types.is_decimal(ty)
                    or pa.types.is_string(ty) or pa.types.is_large_string(ty) or pa.types.is_null(ty)):
                raise BatchInputError(f"column {c}: type {ty}, expected a number", path=str(p))
    rows = t.to_pylist()
    problems: list[RowProblem] = []
    groups: dict[str, list[tuple[int, dict]]] = {}
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(rows, start=1):
        company = "" if r.get("company") is None else str(r["company"]).strip()
        lid = "" if r.get("line_id") is None else str(r["line_id"]).strip()
        if not company:
            problems.append(RowProblem(i, "company", "empty company"))
            continue
        if not lid:
            problems.append(RowProblem(i, "line_id", "empty line_id"))
            continue
        if (company, lid) in seen:
            problems.append(RowProblem(i, "line_id", f"line_id {lid!r} of company {company!r} already on row "
                                                     f"{seen[(company, lid)]}"))
            continue
        seen[(company, lid)] = i
        groups.setdefault(company, []).append((i, r))
    if problems:
        raise BatchInputError(f"bad lines table ({len(problems)} bad row(s); rows counted from 1)",
                              path=str(p), problems=problems)
    if not groups:
        raise BatchInputError("the table has no line", path=str(p))
    for company, items in groups.items():
        buyers = {str(r["buyer"]).strip() for _, r in items if r.get("buyer") not in (None, "")}
        if len(buyers) > 1:
            raise BatchInputError(f"company {company!r}: several buyers ({', '.join(sorted(buyers))}); "
                                  "expected one per company", path=str(p))
        buyer = buyers.pop() if buyers else None
        recs = [input_row(company, str(r["line_id"]).strip(), seq, p.name, buyer, _table_line(i, r))
                for seq, (i, r) in enumerate(items)]
        tbl = pa.Table.from_pylist(recs, schema=INPUT_SCHEMA)
        fp = _sha(b"table", _ipc(tbl))
        out.companies.append(CompanyInput(company, p.name, buyer, None, table=tbl, fingerprint=fp))
    return out


def _ipc(t: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return sink.getvalue().to_pybytes()


def _table_line(i: int, r: dict) -> BomLine:
    """A table row as a BomLine, with the same per-value checks as the BOM reader (warnings, not errors)."""
    from matching.bom.values import parse_country, parse_money, parse_quantity
    from matching.codes import parse_code
    from matching.errors import CodeError

    msgs: list[str] = []
    desc = str(r.get("description") or "").strip()
    code = None
    code_raw = r.get("code")
    code_raw = str(code_raw).strip() if code_raw not in (None, "") else None
    if code_raw:
        try:
            code = parse_code(code_raw).digits
        except CodeError as exc:
            msgs.append(f"invalid code: {exc}")
    origin = None
    o = r.get("origin_country")
    if o not in (None, "") and str(o).strip():
        origin = parse_country(str(o))
        if origin is None:
            msgs.append(f"origin {o!r} is not a recognised country")
    value = _number(r.get("annual_value_eur"), "value", msgs, parse_money)
    qty = _number(r.get("quantity"), "quantity", msgs, parse_quantity)
    status = "warning" if msgs else "ok"
    if not desc and not code_raw:
        status, msgs = "skipped", ["no description and no code"]
    return BomLine(row=i, description=desc, code=code, code_raw=code_raw, origin_country=origin,
                   annual_value_eur=value, quantity=qty, unit=_text(r.get("unit")), reference=_text(r.get("reference")),
                   supplier=_text(r.get("supplier")), status=status, messages=tuple(msgs))


def _text(v: object) -> str | None:
    return str(v).strip() or None if v is not None else None


def _number(v: object, what: str, msgs: list[str], parser) -> float | None:  # noqa: ANN001
    import math

    if v is None or v == "":
        return None
    if isinstance(v, (int, float)) or hasattr(v, "as_integer_ratio"):
        f = float(v)  # type: ignore[arg-type]
        return None if math.isnan(f) else f
    parsed = parser(str(v), None)
    n = None if parsed is None else getattr(parsed, "amount", None) if hasattr(parsed, "amount") else parsed.value
    if n is None:
        msgs.append(f"{what} {v!r} is not a number")
        return None
    return float(n)


def read_company(ci: CompanyInput) -> pa.Table:
    """The company's lines as INPUT_SCHEMA rows (every row of the file, each with its status).

    Raises RelocmatchError (one line, naming the file) when the file cannot be read.
    """
    if ci.table is not None:
        return ci.table
    if ci.missing:
        raise BomError(ci.missing, path=ci.source)
    from matching.bom import read_bom

    assert ci.path is not None
    try:
        res = read_bom(ci.path)
    except RelocmatchError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken file is that company's failure, not the batch's
        raise BomError(f"cannot read ({type(exc).__name__}: {exc})", path=ci.source) from None
    recs = []
    for seq, ln in enumerate(res.lines):
        lid = f"{ln.row}" if not ln.sheet else f"{ln.sheet}!{ln.row}"
        recs.append(input_row(ci.company, lid, seq, ci.source, ci.buyer, ln))
    return pa.Table.from_pylist(recs, schema=INPUT_SCHEMA)


def iter_read(companies: list[CompanyInput]) -> Iterator[tuple[CompanyInput, pa.Table | None, str | None]]:
    """(company, lines or None, failure reason or None) for each company, in order."""
    for ci in companies:
        try:
            yield ci, read_company(ci), None
        except RelocmatchError as exc:
            yield ci, None, str(exc)
