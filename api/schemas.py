"""Wire models: what goes over HTTP, kept apart from the engine's dataclasses.

Input models are strict (bounded strings, bounded finite numbers, no bool for a number)
so that bad requests fail as 422 with a field path; every input string goes through the
input rule of ``matching.textclean`` (``Text``). Output models describe the result
contract of ARCHITECTURE.md and allow extra keys so the engine can add fields without
breaking clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema

from matching.config import KNOWN_REGIONS
from matching.textclean import clean_text

# ---- shared input types: the one text rule and the bounds of every number on the wire -------

Text = Annotated[str, AfterValidator(clean_text)]
"""Any input string: control characters removed or spaced, NUL removed (matching/textclean.py)."""
# a character the input rule keeps (not one of the controls it removes): a required text with only
# removed characters would be empty once cleaned, so the schema refuses it up front
SOME_TEXT = r"[^\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]"
MAX_EUR = 1e13  # ten thousand billion euros: above any firm's purchases, far below float overflow
MAX_QUANTITY = 1e13
MAX_LINE = 2**31 - 1  # a line / row number (the store's INTEGER column)
Money = Annotated[float, Strict(), Field(ge=0, le=MAX_EUR, allow_inf_nan=False)]
Quantity = Annotated[float, Strict(), Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False)]


def _integral(value: object) -> object:
    """JSON Schema's ``integer`` includes ``3.0`` (a number with no fraction), so the server does too;
    ``3.5``, ``"3"`` and ``true`` still fail the strict check after this."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def json_int(ge: int, le: int) -> Any:
    """An integer as JSON Schema says (3 or 3.0; never a bool, a string or 3.5) within [ge, le].
    The bounds sit inside the type, before the validator, so the schema says minimum/maximum."""
    return Annotated[int, Strict(), Field(ge=ge, le=le), BeforeValidator(_integral)]

REGION_PATTERN = "^(" + "|".join(sorted(KNOWN_REGIONS)) + ")$"  # the INSEE régions (matching.config), not 00 or 977
# a product code the crosswalk can read: a chapter 01-99 then up to four pairs of digits, optional space/dot
CODE_PATTERN = r"^(0[1-9]|[1-9][0-9])([ .]?[0-9]{2}){0,4}$"
Region = Field(None, pattern=REGION_PATTERN, description="INSEE région code preferred first, e.g. 44 (Grand Est)")
BUYER_PATTERN = r"^[0-9][0-9AB][0-9]{3}$"
# Which 5-character codes are communes or postcodes is reference data (about 40,000 codes, too many
# for a schema, and no pattern fits them: 01000 has the shape but is neither). The schema says so
# with a named format (fuzzing generates real codes for it: tests/api/fuzz_hooks.py); the server
# checks the shape, then the reference data, and answers 422 naming an unknown code.
PLACE_FORMAT = "insee-commune-or-postcode"
PLACE_SCHEMA = {"type": "string", "minLength": 5, "maxLength": 5, "format": PLACE_FORMAT}
NAF_PATTERN = r"^[0-9]{2}\.?[0-9]{2}[A-Z]$"
NAF_FORMAT = "naf-rev2-subclass"  # one of the 732 NAF rév. 2 sous-classes (reference data), 28.15Z or 2815Z
NafCode = Annotated[
    str | None, Field(pattern=NAF_PATTERN),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 5, "maxLength": 6, "format": NAF_FORMAT},
                              {"type": "null"}]}),
]
BuyerCode = Annotated[
    str | None, Field(pattern=BUYER_PATTERN), WithJsonSchema({"anyOf": [PLACE_SCHEMA, {"type": "null"}]}),
]
Buyer = Field(
    None,
    description="Buyer location: INSEE commune code or postcode (5 characters, one that exists: else 422), "
    "for distances",
)


class LineIn(BaseModel):
    """One purchased input."""

    model_config = ConfigDict(extra="forbid")

    description: Text = Field("", max_length=2000, description="Free text (FR/EN/DE)")
    code: Text | None = Field(None, max_length=40, description="HS/CN/TARIC code as written, e.g. 8482.10 "
                              "(unreadable: the line is matched on its text, with a warning)")
    origin_country: Text | None = Field(None, max_length=60)
    annual_value_eur: Money | None = Field(None, description=f"Euros, 0 to {MAX_EUR:g}")
    quantity: Quantity | None = Field(None, description=f"0 to {MAX_QUANTITY:g}")
    unit: Text | None = Field(None, max_length=40)
    reference: Text | None = Field(None, max_length=200)


class MatchOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str | None = Region
    buyer: BuyerCode = Buyer
    top: json_int(1, 50) = Field(10, description="Suppliers per line")  # type: ignore[valid-type]


class MatchRequest(MatchOptions):
    """Lines matched synchronously (up to the service's line limit; more: use POST /v1/boms)."""

    lines: list[LineIn] = Field(..., min_length=1, max_length=300,
                                description="At most 300 (RELOCMATCH_MAX_SYNC_LINES may set fewer: 413)")


class BomJsonRequest(MatchOptions):
    """A BOM sent as JSON lines instead of a file."""

    lines: list[LineIn] = Field(..., min_length=1, max_length=50_000,
                                description="At most 50,000 (RELOCMATCH_MAX_BOM_ROWS may set fewer: 413)")
    filename: Text | None = Field(None, max_length=300)


# ---- result contract ------------------------------------------------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProductOut(_Open):
    code: str
    system: str | None = None
    label: str | None = None
    score: float | None = None
    source: str | None = None


class ActivityOut(_Open):
    naf: str
    label: str | None = None
    score: float | None = None


class ReasonOut(_Open):
    signal: str
    contribution: float | None = None
    text: str | None = None
    detail: str | None = None  # the code chain behind a plain reason (CN → CPA → NACE → NAF)


class TieOut(_Open):
    """What ordered a supplier among others of the same score."""

    text: str
    text_en: str | None = None


class SupplierHitOut(_Open):
    rank: int
    siret: str
    name: str | None = None
    naf: str | None = None
    commune: str | None = None
    departement: str | None = None
    region: str | None = None
    tier: str | None = None
    distance_km: float | None = None
    score: float | None = None
    reasons: list[ReasonOut] = []
    tie: TieOut | None = None


class ConfidenceOut(_Open):
    """Calibrated confidence of a line: estimated probability that its suppliers hold a right
    producing activity, and its band (low: the line is ``low_confidence``, suppliers to check)."""

    probability: float = Field(ge=0, le=1)
    band: Literal["high", "medium", "low"]


class LineOut(_Open):
    line: int
    status: str = Field(description="matched | low_confidence | no_producer | no_candidate | skipped | error")
    kind: str | None = None
    confidence: ConfidenceOut | None = None
    input: dict[str, Any] = {}
    errors: list[Any] = []
    warnings: list[Any] = []
    products: list[ProductOut] = []
    product: ProductOut | None = None  # the product shown: the one the first supplier's reasons cite
    activities: list[ActivityOut] = []
    other_activities: list[ActivityOut] = []  # far below the best activity: other leads, shown apart
    suppliers: list[SupplierHitOut] = []


class NoteOut(_Open):
    """What holds for the whole result, said once (``no_buyer``: no buyer commune, so no distances)."""

    code: str
    text: str
    text_en: str | None = None


class MatchResponse(_Open):
    """The result contract: catalog manifest, notes said once, one entry per line, a summary."""

    catalog: dict[str, Any] = {}
    notes: list[NoteOut] = []
    lines: list[LineOut]
    summary: dict[str, Any] = {}


class Progress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    """A BOM job: its state, progress and (when done) its results."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: Progress
    filename: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    error: str | None = None
    layout: dict[str, Any] | None = None
    options: dict[str, Any] = {}
    links: dict[str, str] = {}
    result: MatchResponse | None = None


class JobList(BaseModel):
    jobs: list[JobOut]


class SupplierOut(_Open):
    siret: str
    name: str
    naf: str
    commune_code: str | None = None
    commune: str | None = None
    departement: str | None = None
    region: str | None = None
    lat: float | None = None
    lon: float | None = None
    size_band: str | None = None
    products: str | None = None
    address: str | None = None
    postcode: str | None = None
    source: str | None = None


class FeedbackIn(BaseModel):
    """A judgement on a proposed supplier for a line."""

    model_config = ConfigDict(extra="forbid")

    siret: str = Field(..., pattern=r"^[0-9]{14}$")
    label: Literal["relevant", "not_relevant", "contacted", "contracted"]
    job_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="The BOM job the line belongs to")
    line: json_int(1, 10_000_000) | None = Field(None, description="Line (row) number in that job")  # type: ignore[valid-type]
    line_text: Text | None = Field(None, max_length=2000, description="The line's text, when not from a job")
    comment: Text | None = Field(None, max_length=4000)


class FeedbackOut(BaseModel):
    id: str
    siret: str
    label: str
    job_id: str | None = None
    line: int | None = None
    line_text: str | None = None
    comment: str | None = None
    created_at: datetime


class FeedbackList(BaseModel):
    feedback: list[FeedbackOut]


class ErrorOut(BaseModel):
    """Every error: what went wrong (``detail``) and the request id to quote to support."""

    detail: Any
    request_id: str | None = None


class BomProblemOut(BaseModel):
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    message: str


class BomErrorOut(ErrorOut):
    problems: list[BomProblemOut] = []


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    catalog: bool
    database: bool
    # where rate limits and key revocations live: "redis" (shared by every process, RELOCMATCH_REDIS_URL)
    # or "process" (each worker its own; with N workers a key gets N times its quota)
    limits: Literal["redis", "process"] = "process"
    detail: str | None = None
