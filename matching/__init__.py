"""relocmatch engine: imported inputs -> ranked, tiered, explained French suppliers.

A library: it never imports FastAPI or pydantic, and `import matching` stays light
(no torch, no pandas at import time). The data flows one way:
file -> BomLine -> ProductGuess -> ActivityGuess -> candidates -> features -> scores -> LineResult.
"""

__version__ = "0.1.0"
RESULT_SCHEMA_VERSION = "1.0"
