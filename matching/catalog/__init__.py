"""The supplier catalog: register loaders (`sources`), name cleaning (`names`) and the
atomic on-disk catalog with its manifest (`store`). Callers import from here.
"""

from matching.catalog.store import (
    CATALOG_COLUMNS,
    MANIFEST_FILE,
    REFERENCE_FILES,
    SCHEMA_VERSION,
    TABLE_FILE,
    BuildReport,
    Catalog,
    LoadReport,
    build_catalog,
    catalog_summary,
    parse_mapping,
    sha256_file,
    synth_sirene,
)

__all__ = [
    "CATALOG_COLUMNS", "MANIFEST_FILE", "REFERENCE_FILES", "SCHEMA_VERSION", "TABLE_FILE", "BuildReport", "Catalog",
    "LoadReport", "build_catalog", "catalog_summary", "parse_mapping", "sha256_file", "synth_sirene",
]
