"""BOM ingestion: a purchase-list file in, `BomLine`s out, every row with a status.

`source` turns bytes into raw tables (format, encoding, safety limits), `layout` finds the
header and the column roles, `values` parses numbers, money and countries, and `read`
assembles the rows. Callers use `read_bom` from here.
"""

from matching.bom.read import ROLES, BomLayout, BomLimits, BomReadResult, RowReport, read_bom

__all__ = ["BomLimits", "BomLayout", "RowReport", "BomReadResult", "read_bom", "ROLES"]
