"""The "My reviews" page: one page of this person's reviews, its filters and its links to older and newer pages.

Pages are cut by review id ("before"/"after" in the query string), not by page number: a review answered while
someone pages back does not shift every later page by one. A filter value that matches none of this person's
reviews (a stale bookmark, a renamed dataset) is ignored with a notice; a malformed page cursor is a BadInput.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.http import HttpRequest

from auditor.inputs import BadInput, query_int
from auditor.queue.models import Review
from auditor.review.queries import history

PAGE_SIZE = 50


@dataclass(frozen=True)
class HistoryFilters:
    dataset: str = ""
    tag: str = ""
    decision: str = ""

    def as_query(self, **cursor: int) -> str:
        """The query string of these filters and a page cursor ("" for the newest page without filters)."""
        pairs = {"dataset": self.dataset, "tag": self.tag, "decision": self.decision, **cursor}
        return urlencode({key: value for key, value in pairs.items() if value != ""})


@dataclass
class ReviewsPage:
    reviews: list[dict]
    filters: HistoryFilters
    datasets: list[str]  # the choices of the filters: what this person has reviewed
    tags: list[str]
    decisions: list[tuple[str, str]]
    notices: list[str] = field(default_factory=list)
    older_query: str | None = None  # None: no older page
    newer_query: str | None = None
    paged: bool = False  # not the newest page: offer a way back to it

    @property
    def newest_query(self) -> str:
        return self.filters.as_query()


def _datasets(user: User) -> list[str]:
    # order_by replaces Review's default ordering, which DISTINCT would otherwise count in (one row per review).
    names = Review.objects.filter(user=user).values_list("item__dataset__name", flat=True)
    return list(names.order_by("item__dataset__name").distinct())


def _tags(user: User, dataset: str) -> list[str]:
    mine = Review.objects.filter(user=user)
    if dataset:
        mine = mine.filter(item__dataset__name=dataset)
    return list(mine.values_list("item__tag__name", flat=True).order_by("item__tag__name").distinct())


def _read_filters(request: HttpRequest, user: User) -> tuple[HistoryFilters, list[str], list[str], list[str]]:
    """The filters asked for, the choices of each, and a notice for each value outside them (which is dropped)."""
    notices = []
    wanted = {key: request.GET.get(key, "").strip() for key in ("dataset", "tag", "decision")}
    datasets = _datasets(user)
    if wanted["dataset"] and wanted["dataset"] not in datasets:
        notices.append(f"You have no reviews in a dataset named “{wanted['dataset']}”: showing every dataset.")
        wanted["dataset"] = ""
    tags = _tags(user, wanted["dataset"])
    if wanted["tag"] and wanted["tag"] not in tags:
        where = f" in {wanted['dataset']}" if wanted["dataset"] else ""
        notices.append(f"You have no reviews of a tag named “{wanted['tag']}”{where}: showing every tag.")
        wanted["tag"] = ""
    if wanted["decision"] and wanted["decision"] not in Review.Decision.values:
        choices = ", ".join(Review.Decision.values)
        notices.append(f"“{wanted['decision']}” is not an answer (one of {choices}): showing every answer.")
        wanted["decision"] = ""
    return HistoryFilters(**wanted), notices, datasets, tags


def reviews_page(request: HttpRequest, user: User) -> ReviewsPage:
    """The page the query string asks for: PAGE_SIZE reviews, newest first, before or after a review id.

    Raises BadInput for a malformed cursor, or both cursors at once."""
    before = query_int(request, "before", None)
    after = query_int(request, "after", None)
    if before is not None and after is not None:
        raise BadInput("give 'before' (older reviews) or 'after' (newer ones), not both")
    filters, notices, datasets, tags = _read_filters(request, user)

    def page_of(limit: int, before_id: int | None = None, after_id: int | None = None) -> list[dict]:
        return history(
            user,
            limit=limit,
            before_id=before_id,
            after_id=after_id,
            dataset=filters.dataset,
            tag=filters.tag,
            decision=filters.decision,
        )

    rows = page_of(PAGE_SIZE + 1, before, after)
    # One more than a page came back: there is a further page that way, found without counting every review.
    more = len(rows) > PAGE_SIZE
    # Newest first either way: the extra one is the newest when paging towards newer reviews, else the oldest.
    rows = rows[-PAGE_SIZE:] if after is not None else rows[:PAGE_SIZE]
    if not rows:
        has_older = has_newer = False
    elif after is not None:
        has_newer, has_older = more, bool(page_of(1, before_id=rows[-1]["review_id"]))
    else:
        has_older = more
        has_newer = before is not None and bool(page_of(1, after_id=rows[0]["review_id"]))
    return ReviewsPage(
        reviews=rows,
        filters=filters,
        datasets=datasets,
        tags=tags,
        decisions=Review.Decision.choices,
        notices=notices,
        older_query=filters.as_query(before=rows[-1]["review_id"]) if has_older else None,
        newer_query=filters.as_query(after=rows[0]["review_id"]) if has_newer else None,
        paged=before is not None or after is not None,
    )
