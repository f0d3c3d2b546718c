"""Turning BOM bytes into raw tables: format sniffing, encodings, delimiters, and the
safety checks (size, rows, cells, zip bombs) that run *before* any parser sees the data.

Content decides the format, the file name only breaks ties: a zip that holds a
workbook is a workbook whatever it is called, and a binary blob named `.xlsx` is an
error, not a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from matching.errors import BomError
from matching.textclean import clean_text, clean_value, is_clean

MiB = 1024 * 1024


@dataclass(frozen=True)
class BomLimits:
    """Guards against files that would exhaust memory or time; defaults fit a 50,000-line BOM."""

    max_bytes: int = 50 * MiB
    max_rows: int = 100_000
    max_cells: int = 5_000_000
    max_uncompressed: int = 300 * MiB  # total of a workbook's zip entries
    max_ratio: float = 200.0  # compression ratio above which a large entry is a bomb
    max_columns: int = 1_000


@dataclass
class RawSheet:
    """One table before interpretation: rows of cell values with their 1-based row numbers."""

    name: str | None
    rows: list[list[object]]
    row_numbers: list[int]
    fixed_header: list[str] | None = None  # JSON: keys are the header, no header row in the data


@dataclass
class RawSource:
    format: str  # csv | tsv | txt | xlsx | xlsm | xls | ods | json
    sheets: list[RawSheet]
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)


_SPREADSHEET_EXT = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}
_TEXT_ENCODINGS = ["utf_8", "cp1252", "latin_1", "iso8859_15", "utf_16", "utf_16_le", "utf_16_be", "mac_roman"]


def load_source(data: bytes, filename: str | None, limits: BomLimits) -> RawSource:
    """Sniff the content and return its raw tables, or raise BomError with a one-line reason."""
    if len(data) > limits.max_bytes:
        raise BomError(
            f"file is {len(data) / MiB:.1f} MiB, above the limit of {limits.max_bytes / MiB:.0f} MiB "
            "(raise BomLimits.max_bytes to read it)",
            path=filename,
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise BomError("file is empty (no header, no rows)", path=filename)
    ext = Path(filename).suffix.lower() if filename else ""
    if data[:4] == b"PK\x03\x04":
        return _clean_cells(_load_zip(data, filename, limits))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _clean_cells(_load_calamine(data, "xls", filename, limits))
    text, encoding = _decode(data, filename)
    if text is None:
        what = f"named {ext!r} but " if ext in _SPREADSHEET_EXT else ""
        raise BomError(
            f"{what}not a spreadsheet or text file (starts with bytes {data[:8].hex(' ')}); "
            "expected CSV/TSV/TXT, XLSX/XLSM, ODS or JSON",
            path=filename,
        )
    text = clean_text(text)  # the input rule (matching/textclean.py), once over the whole decoded text
    notes = []
    if ext in _SPREADSHEET_EXT:
        notes.append(f"named {ext} but its content is text: read as delimited text")
    stripped = text.lstrip("\ufeff \t\r\n")
    if ext == ".json" or stripped[:1] in "[{":
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            if ext == ".json":
                raise BomError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=filename) from None
        else:
            src = _clean_cells(_load_json(obj, filename, limits))  # JSON escapes ("\\u000b") decode to controls
            src.encoding = encoding
            src.notes = notes
            return src
    src = _load_text(text, filename, limits)
    src.encoding = encoding
    src.notes = notes + src.notes
    return src


def _clean_cells(src: RawSource) -> RawSource:
    """The input rule (``matching.textclean``) on every text cell, header key and sheet name of
    a workbook or JSON source (delimited text is cleaned once as a whole before parsing)."""
    for sh in src.sheets:
        if sh.name is not None:
            sh.name = clean_text(sh.name)
        if sh.fixed_header is not None:
            sh.fixed_header = [clean_text(h) for h in sh.fixed_header]
        for row in sh.rows:
            for j, v in enumerate(row):
                if isinstance(v, str) and not is_clean(v):
                    row[j] = clean_value(v)
    return src


# --------------------------------------------------------------------------- text


def _decode(data: bytes, filename: str | None) -> tuple[str | None, str | None]:
    """Decode text: BOMs first, then strict UTF-8, then charset-normalizer among Western encodings."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None, None
    sample = data[:4096]
    if b"\x00" in sample:
        # UTF-16 without BOM has a NUL every other byte; anything else with NULs is binary
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) / 2
        if odd > 0.3 * half and even < 0.05 * half:
            try:
                return data.decode("utf-16-le"), "utf-16-le"
            except UnicodeDecodeError:
                return None, None
        if even > 0.3 * half and odd < 0.05 * half:
            try:
                return data.decode("utf-16-be"), "utf-16-be"
            except UnicodeDecodeError:
                return None, None
        if sample.count(0) > max(2, 0.01 * len(sample)):
            return None, None
        # a stray NUL in text (an ERP's padding): text all the same, the input rule removes it
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 * MiB], cp_isolation=_TEXT_ENCODINGS).best()
    if best is None:
        return None, None
    enc = best.encoding
    text = data.decode(enc, errors="replace")
    # control characters other than tab/CR/LF mean binary content, whatever the detector says
    ctrl = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n")
    if ctrl > 0.01 * max(1, min(len(text), 4096)):
        return None, None
    return text, enc


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample into the most consistent number of fields (>1)."""
    best, best_score = ",", -1.0
    sample = [ln for ln in lines if ln.strip()][:60]
    if not sample:
        return ","
    for d in ("\t", ";", ",", "|"):
        counts = [len(r) for r in csv.reader(sample, delimiter=d)]
        multi = [c for c in counts if c > 1]
        if not multi:
            continue
        mode = max(set(multi), key=multi.count)
        consistency = multi.count(mode) / len(counts)
        score = consistency * len(multi) / len(counts) + (0.01 if d == "\t" else 0) + min(mode, 20) * 0.001
        if score > best_score:
            best, best_score = d, score
    return best


def _load_text(text: str, filename: str | None, limits: BomLimits) -> RawSource:
    head = text[:200_000].splitlines()
    delim = _sniff_delimiter(head)
    ext = Path(filename).suffix.lower() if filename else ""
    fmt = "tsv" if delim == "\t" else ("txt" if ext == ".txt" else "csv")
    rows: list[list[object]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    prev_line = 0
    cells = 0
    notes: list[str] = []
    try:
        for rec in reader:
            numbers.append(prev_line + 1)
            prev_line = reader.line_num
            rows.append(rec)  # type: ignore[arg-type]
            cells += len(rec)
            if len(rows) > limits.max_rows:
                raise BomError(
                    f"more than {limits.max_rows:,} rows (raise BomLimits.max_rows to read it)", path=filename
                )
            if cells > limits.max_cells:
                raise BomError(f"more than {limits.max_cells:,} cells (BomLimits.max_cells)", path=filename)
            if len(rec) > limits.max_columns:
                raise BomError(
                    f"line {numbers[-1]} has {len(rec)} fields, above {limits.max_columns} (BomLimits.max_columns)",
                    path=filename,
                )
    except csv.Error as exc:
        raise BomError(f"line {reader.line_num}: malformed delimited text ({exc})", path=filename) from None
    return RawSource(format=fmt, sheets=[RawSheet(None, rows, numbers)], delimiter=delim, notes=notes)


def _load_json(obj: object, filename: str | None, limits: BomLimits) -> RawSource:
    if isinstance(obj, dict):
        lists = [v for v in obj.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise BomError("JSON object must hold exactly one list of line objects (e.g. {\"lines\": [...]})", path=filename)
        obj = lists[0]
    if not isinstance(obj, list) or not obj:
        raise BomError("JSON must be a non-empty list of objects, one per line", path=filename)
    if len(obj) > limits.max_rows:
        raise BomError(f"more than {limits.max_rows:,} rows (BomLimits.max_rows)", path=filename)
    keys: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(obj, 1):
        if not isinstance(item, dict):
            raise BomError(f"JSON item {i} is {type(item).__name__}, expected an object", path=filename)
        for k in item:
            if k not in seen:
                seen.add(k)
                keys.append(str(k))
    rows: list[list[object]] = []
    for item in obj:
        rows.append([_json_cell(item.get(k)) for k in keys])
    return RawSource(format="json", sheets=[RawSheet(None, rows, list(range(1, len(rows) + 1)), fixed_header=keys)])


def _json_cell(v: object) -> object:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v, ensure_ascii=False)


# --------------------------------------------------------------------------- workbooks


def _load_zip(data: bytes, filename: str | None, limits: BomLimits) -> RawSource:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BomError(f"corrupt zip container, not a readable workbook ({exc})", path=filename) from None
    names = {i.filename for i in infos}
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_uncompressed:
        raise BomError(
            f"workbook would expand to {declared / MiB:.0f} MiB, above the limit of "
            f"{limits.max_uncompressed / MiB:.0f} MiB (zip bomb?)",
            path=filename,
        )
    for i in infos:
        if i.file_size > 1 * MiB and i.compress_size and i.file_size / i.compress_size > limits.max_ratio:
            raise BomError(
                f"zip entry {i.filename!r} compresses {i.file_size / i.compress_size:.0f}:1, "
                f"above the {limits.max_ratio:.0f}:1 limit (zip bomb?)",
                path=filename,
            )
    # declared sizes can lie: decompress once, counting, before handing bytes to a parser
    total = 0
    try:
        for i in infos:
            with zf.open(i) as fh:
                while chunk := fh.read(1 * MiB):
                    total += len(chunk)
                    if total > limits.max_uncompressed:
                        raise BomError(
                            f"workbook expands beyond {limits.max_uncompressed / MiB:.0f} MiB while reading "
                            f"{i.filename!r} (zip bomb?)",
                            path=filename,
                        )
    except BomError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise BomError(f"corrupt workbook zip ({exc})", path=filename) from None
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        fmt = "xlsm" if any("vbaProject" in n for n in names) or (filename or "").lower().endswith(".xlsm") else "xlsx"
        if "xl/workbook.bin" in names:
            fmt = "xlsb"
        return _load_calamine(data, fmt, filename, limits)
    if "mimetype" in names:
        mt = zf.read("mimetype")[:100]
        if b"opendocument.spreadsheet" in mt:
            return _load_calamine(data, "ods", filename, limits)
        raise BomError(f"OpenDocument file that is not a spreadsheet ({mt.decode(errors='replace')})", path=filename)
    raise BomError(
        "zip archive that holds no workbook (no xl/ or OpenDocument spreadsheet inside)", path=filename
    )


def _load_calamine(data: bytes, fmt: str, filename: str | None, limits: BomLimits) -> RawSource:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise BomError(f"cannot open {fmt.upper()} workbook: {str(exc).splitlines()[0][:200]}", path=filename) from None
    sheets: list[RawSheet] = []
    cells = 0
    for name in wb.sheet_names:
        try:
            sh = wb.get_sheet_by_name(name)
            if sh.total_height > limits.max_rows + 1:
                raise BomError(
                    f"sheet {name!r} has {sh.total_height:,} rows, above {limits.max_rows:,} (BomLimits.max_rows)",
                    path=filename,
                )
            if sh.total_width > limits.max_columns:
                raise BomError(
                    f"sheet {name!r} has {sh.total_width:,} columns, above {limits.max_columns} (BomLimits.max_columns)",
                    path=filename,
                )
            rows = sh.to_python(skip_empty_area=False)
        except BomError:
            raise
        except Exception as exc:
            raise BomError(f"sheet {name!r} cannot be read: {str(exc).splitlines()[0][:200]}", path=filename) from None
        cells += sum(len(r) for r in rows)
        if cells > limits.max_cells:
            raise BomError(f"more than {limits.max_cells:,} cells (BomLimits.max_cells)", path=filename)
        sheets.append(RawSheet(name, rows, list(range(1, len(rows) + 1))))  # type: ignore[arg-type]
    return RawSource(format=fmt, sheets=sheets)
