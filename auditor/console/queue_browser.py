"""What the admin's queue browser and item page ask of the database: the filters, parsed and validated from the
query string, the items they select with the figures each row shows, the counts per tag, and the item page's
"where in the clip" strip and note check."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, fields, replace
from urllib.parse import urlencode

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from auditor.datasets.models import Dataset
from auditor.inputs import BadInput
from auditor.queue.models import ItemNote, Review, ReviewItem

ANY_STATUS = "any"
STATUSES = (*ReviewItem.Status.values, ANY_STATUS)
KINDS = tuple(ReviewItem.Kind.values)
# The queue's own order (as annotators are served, calibration items placed among the flagged ones), the model's
# doubt, or the newest audit's items first. The id breaks ties, so paging never repeats or skips a row.
SORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "queue": ("queue order", ("-priority", "id")),
    "score": ("score, highest first", ("-score", "-priority", "id")),
    "newest": ("newest first", ("-created_at", "-id")),
}
CHECKED = ("1", "on")  # what a ticked checkbox sends: ours says 1, a hand-typed address may say on
MAX_USERNAME = 150  # auth.User.username


class InvalidFilters(BadInput):
    """Some filters cannot be read; `errors` names each bad field with what was wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"field {name!r}: {problem}" for name, problem in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class QueueFilters:
    """The queue browser's filters; the defaults are what an empty query string means (the open queue)."""

    tag: str = ""
    kind: str = ""
    status: str = ReviewItem.Status.OPEN
    score_min: float | None = None
    score_max: float | None = None
    reviewer: str = ""  # a username: the items that person answered
    notes: bool = False  # only items with at least one note
    sort: str = "queue"

    @classmethod
    def parse(cls, query: Mapping[str, str], *, tags: Collection[str]) -> QueueFilters:
        """The filters in `query` (request.GET); raises InvalidFilters naming every field it could not read.
        `tags` are the dataset's tag names: any other tag is refused rather than silently matching nothing."""
        errors: dict[str, str] = {}
        raw = {field.name: query.get(field.name, "").strip() for field in fields(cls)}

        def choice(name: str, allowed: Collection[str], default: str) -> str:
            value = raw[name] or default
            if value not in allowed:
                errors[name] = f"expected one of {', '.join(sorted(allowed))}, got {value!r}"
                return default
            return value

        tag = raw["tag"]
        if tag and tag not in tags:
            errors["tag"] = f"this dataset has no tag {tag!r}"
        kind = choice("kind", KINDS, "") if raw["kind"] else ""  # empty: any kind
        status = choice("status", STATUSES, cls.status)
        sort = choice("sort", SORTS, cls.sort)
        score_min, score_max = (_probability(raw[name], name, errors) for name in ("score_min", "score_max"))
        if score_min is not None and score_max is not None and score_min > score_max:
            errors["score_max"] = f"{score_max:g} is below score_min ({score_min:g}): the range would be empty"
        if len(raw["reviewer"]) > MAX_USERNAME:
            errors["reviewer"] = f"a username has at most {MAX_USERNAME} characters"
        if raw["notes"] and raw["notes"] not in CHECKED:
            errors["notes"] = f"expected 1 (ticked) or nothing, got {raw['notes']!r}"
        if errors:
            raise InvalidFilters(errors)
        return cls(tag, kind, status, score_min, score_max, raw["reviewer"], bool(raw["notes"]), sort)

    def query(self, *, tag: str | None = None) -> str:
        """These filters (with another `tag`) as a query string, defaults left out: for paging and tag links."""
        defaults = asdict(QueueFilters())
        values = asdict(self if tag is None else replace(self, tag=tag))
        kept = {name: value for name, value in values.items() if value != defaults[name]}
        if kept.get("notes"):
            kept["notes"] = "1"
        return urlencode(kept)


def _probability(value: str, name: str, errors: dict[str, str]) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        errors[name] = f"expected a number from 0 to 1 (a probability), got {value!r}"
        return None
    return number


def _count_of(rows: QuerySet, link: str) -> Coalesce:
    """How many of `rows` point at the annotated row through `link`: a subquery per row shown, not a join that
    multiplies rows."""
    counted = rows.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def filtered_items(dataset: Dataset, filters: QueueFilters, *, any_tag: bool = False) -> QuerySet[ReviewItem]:
    """The dataset's items that pass the filters (all but the tag's with `any_tag`), in no particular order."""
    items = ReviewItem.objects.filter(dataset=dataset).order_by()
    if filters.tag and not any_tag:
        items = items.filter(tag__name=filters.tag)
    if filters.kind:
        items = items.filter(kind=filters.kind)
    if filters.status != ANY_STATUS:
        items = items.filter(status=filters.status)
    if filters.score_min is not None:
        items = items.filter(score__gte=filters.score_min)
    if filters.score_max is not None:
        items = items.filter(score__lte=filters.score_max)
    if filters.reviewer:
        answered = Review.objects.filter(item=OuterRef("pk"), user__username=filters.reviewer)
        items = items.filter(Exists(answered))
    if filters.notes:
        items = items.filter(Exists(ItemNote.objects.filter(item=OuterRef("pk"))))
    return items


def browsed_items(dataset: Dataset, filters: QueueFilters) -> QuerySet[ReviewItem]:
    """The rows of the browser's table in the chosen order, each with its `answers` and `note_count`."""
    return (
        filtered_items(dataset, filters)
        .select_related("clip", "tag")
        .annotate(answers=_count_of(Review.objects.all(), "item"), note_count=_count_of(ItemNote.objects.all(), "item"))
        .order_by(*SORTS[filters.sort][1])
    )


@dataclass(frozen=True)
class TagCount:
    name: str
    items: int
    query: str  # the current filters with this tag's
    current: bool  # the tag filtered on now


def counts_per_tag(dataset: Dataset, filters: QueueFilters) -> list[TagCount]:
    """Items per tag under the current filters but the tag's, most first: what choosing a tag would show."""
    rows = (
        filtered_items(dataset, filters, any_tag=True)
        .values_list("tag__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "tag__name")
    )
    return [TagCount(name, n, filters.query(tag=name), name == filters.tag) for name, n in rows]


def open_items_of_tag() -> Coalesce:
    """A Tag annotation: its open review items (what the queue browser shows for `?tag=` with no other filter)."""
    return _count_of(ReviewItem.objects.filter(status=ReviewItem.Status.OPEN), "tag")
