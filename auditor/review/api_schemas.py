"""The review API's requests and answers as types: pydantic validates every request with them before a view runs,
and the OpenAPI document (/api/schema.json) is generated from the same classes, so the two cannot drift.

Requests are strict: a field of the wrong JSON type is refused rather than converted (`true` is not an id, `1`
is not `true`), and a field the request does not have is refused (`additionalProperties: false`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from auditor.inputs import MAX_ID, NUL

MAX_EXCLUDE = 10
MAX_HISTORY = 500

Decision = Literal["present", "absent", "unsure"]
ItemId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


def _no_nul(value: str) -> str:
    if NUL in value:
        raise ValueError("contains a NUL character")
    return value


DatasetName = Annotated[
    Annotated[StrictStr, Field(max_length=100), AfterValidator(_no_nul)] | None,
    BeforeValidator(lambda value: None if value == "" else value),  # an empty choice means "all datasets"
    Field(description="Only this dataset's queue (default: all)."),
]
ClipId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
ExcludeClips = Annotated[
    list[ClipId],
    Field(max_length=MAX_EXCLUDE, description="Clips already on screen: fetch the clip after them (prefetch)."),
]
Exclude = Annotated[
    list[ItemId],
    Field(max_length=MAX_EXCLUDE, description="Items already on screen: fetch the one after them (prefetch)."),
]


class Request(Schema):
    """A request body: only the fields it declares."""

    model_config = ConfigDict(extra="forbid")


class Empty(Request):
    """No fields: an empty body or `{}`."""


class NextWanted(Request):
    """Where the next question should come from."""

    dataset: DatasetName = None
    exclude: Exclude = []


class ClaimRequest(NextWanted):
    pass


class ClipClaimRequest(Request):
    """Clip mode: where the next clip's questions should come from."""

    dataset: DatasetName = None
    exclude_clips: ExcludeClips = []


def _note(value: str | None) -> str | None:
    """Surrounding blanks dropped; blank is no note."""
    return None if value is None else _no_nul(value).strip() or None


NoteText = Annotated[
    Annotated[StrictStr, Field(max_length=2000)] | None,
    AfterValidator(_note),
    Field(description="A note for the admins, kept with this answer (undoing the answer removes it)."),
]


class SubmitRequest(NextWanted):
    decision: Decision
    note: NoteText = None
    next: StrictBool = Field(default=False, description="Also claim the next item and return it.")


class SkipRequest(NextWanted):
    next: StrictBool = Field(default=False, description="Also claim the next item and return it.")


class Error(Schema):
    error: str = Field(description="What was wrong (it names the field), or why the request was refused.")


class TagPart(Schema):
    name: str
    description: str


class ClipPart(Schema):
    id: int
    path: str
    duration: float | None = Field(description="Seconds.")


class Item(Schema):
    """One (clip, tag) question. The current label and the model's belief are not in it (they would anchor the
    answer): `reveal_url` gives them, when the page or script asks. Nor is whether the question was flagged or drawn
    for calibration: an annotator who knew might answer the two differently, and the estimates assume not."""

    id: int
    dataset: str
    question: str = Field(examples=["Is female vocalist present?"])
    tag: TagPart
    clip: ClipPart
    reveal_label: Literal["after_listen", "on_key"] = Field(
        description="When a page should ask `reveal_url` for the label: after listening, or only on request."
    )
    reveal_url: str = Field(description="POST: the current label and the model's belief.")
    audio_url: str = Field(description="Supports Range requests (206).")
    spectrogram_url: str = Field(description="PNG of the log-mel spectrogram.")
    windows_url: str = Field(description="GET: where in the clip the model hears the tag (relative, per window).")
    spectrogram_frames_per_second: float = Field(
        description="Feature frames per second; the picture spans the whole clip, one column a frame up to 4096 "
        "columns (a longer clip's frames are pooled)."
    )
    lease_expires_at: datetime | None


class Claimed(Schema):
    item: Item | None = Field(description="The item, or null when nothing is left for you.")


class ClaimedClip(Schema):
    items: list[Item] = Field(
        description="The clip's questions for you, by tag name (one clip, one listen); empty when nothing is left. "
        "Each is answered on its own (submit, skip), as in question mode."
    )


class ReviewPart(Schema):
    id: int
    item_id: int
    decision: Decision
    at: datetime


class Submitted(Schema):
    review: ReviewPart
    item_status: Literal["open", "resolved", "superseded"]
    resolution: bool | None = Field(description="The decided label, once the item is resolved.")
    next: Item | None = Field(default=None, description="The next item, when asked for (null when none is left).")


class Skipped(Schema):
    skipped: int
    next: Item | None = Field(default=None, description="The next item, when asked for (null when none is left).")


class Renewed(Schema):
    renewed: bool = Field(description="false when the lease had lapsed")


class Revealed(Schema):
    item_id: int
    given: bool = Field(description="The label as it stands (before this review).")
    probability: float | None = Field(description="The model's P(present).")


class AuditUnderWay(Schema):
    run_id: int
    dataset: str
    kind: Literal["audit", "retrain", "rescore"]
    status: Literal["queued", "running"]
    stage: str
    progress: float = Field(ge=0, le=1)
    eta_seconds: int | None = Field(description="Seconds left at the pace so far; null until there is a pace.")


class Focus(Schema):
    dataset: str
    tags: list[str] = Field(description="The tags in focus (the first few): only their questions are handed out.")
    more_tags: int = Field(description="Tags in focus beyond those named.")
    held_back: int = Field(description="Open questions about other tags, waiting until the focus is lifted.")


class Tally(Schema):
    reviewed_today: int
    remaining: int = Field(description="Open items still waiting for your answer.")
    audits: list[AuditUnderWay] = Field(description="Audits and retrainings under way: they bring new questions.")
    focus: list[Focus] = Field(description="Datasets whose admins put some tags in focus.")


class TallyQuery(Schema):
    dataset: DatasetName = None


class StripCell(Schema):
    left: float = Field(description="Where the cell starts, in % of the clip.")
    width: float = Field(description="How wide it is, in % of the clip (to the next window's start).")
    opacity: float = Field(description="0.08 + 0.92 × strength: darker is stronger.")


class Windows(Schema):
    """Where in the clip the model hears the tag: per window of the held-out fold model, its P(present) divided by
    the clip's strongest window's (so 1 marks the strongest; the belief itself comes from `reveal`)."""

    item_id: int
    window_seconds: float | None = Field(description="How long each window lasts; null when no run kept windows.")
    starts: list[float] = Field(description="Where each window starts, in seconds.")
    strength: list[float] = Field(description="Each window's strength relative to the strongest (0–1).")
    strongest_start: float | None = Field(description="Where the strongest window starts.")
    cells: list[StripCell] = Field(description="The strip as drawn: one cell per window, placed in % of the clip.")


class HistoryEntry(Schema):
    review_id: int
    item_id: int
    dataset: str
    clip: str
    tag: str
    decision: Decision
    at: datetime
    item_status: Literal["open", "resolved", "superseded"]
    resolution: bool | None
    note: str | None = Field(description="The note you sent with this answer, if any.")


class History(Schema):
    reviews: list[HistoryEntry]
