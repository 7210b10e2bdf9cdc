"""The review flow as a JSON API (claim, renew, submit, skip, reveal, undo, tally, history) for the page and scripts.

Authentication is the site's session cookie; every write needs the CSRF token in the X-CSRFToken header
(the `csrftoken` cookie's value). Errors are JSON objects with an `error` message. Every request is checked
whole (auditor.inputs) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.http import require_GET

from auditor.accounts.roles import AuthenticatedRequest, api_annotator_required
from auditor.audits.claims import ClaimRefused, claim_next, ensure_handed, renew, skip, submit, undo_last
from auditor.audits.models import ReviewItem
from auditor.audits.reviews import DECISIONS, ReviewRefused
from auditor.datasets.models import Dataset
from auditor.inputs import BadInput, flag_field, id_list_field, query_int, read_json_object, text_field
from auditor.review.openapi import schema
from auditor.review.queries import history, item_payload, revealed_label, tally

MAX_EXCLUDE = 10
MAX_HISTORY = 500


def endpoint(method: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An API view: only `method` (JSON 405), annotators only (JSON 401/403), refusals as JSON 400/404/409/413."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except BadInput as exc:
                return JsonResponse({"error": str(exc)}, status=exc.status)
            except (ReviewRefused, ClaimRefused) as exc:
                return JsonResponse({"error": str(exc)}, status=409)
            except ReviewItem.DoesNotExist:
                return JsonResponse({"error": "no such review item"}, status=404)

        checked = api_annotator_required(wrapper)

        @wraps(view)
        def only_method(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != method:
                refused = JsonResponse({"error": f"use {method} on this address"}, status=405)
                refused["Allow"] = method
                return refused
            return checked(request, *args, **kwargs)

        return only_method

    return decorator


# What each request's body may hold; anything else is refused (400) before anything is written.
CLAIM_FIELDS = ("dataset", "exclude")
SUBMIT_FIELDS = ("decision", "next", "dataset", "exclude")
SKIP_FIELDS = ("next", "dataset", "exclude")


@dataclass(frozen=True)
class NextWanted:
    """Where the next question should come from, read from a body before anything is written."""

    dataset_id: int | None
    exclude: list[int]


def _next_wanted(body: dict) -> NextWanted:
    name = text_field(body, "dataset", max_length=100)
    dataset_id = None
    if name is not None:
        dataset_id = Dataset.objects.filter(name=name).values_list("pk", flat=True).first()
        if dataset_id is None:
            raise BadInput(f"field 'dataset': no dataset {name!r}")
    return NextWanted(dataset_id, id_list_field(body, "exclude", max_items=MAX_EXCLUDE))


def _claimed(request: AuthenticatedRequest, wanted: NextWanted) -> dict | None:
    item = claim_next(request.user, dataset_id=wanted.dataset_id, exclude=wanted.exclude)
    return None if item is None else item_payload(item)


def _answer_with_next(request: AuthenticatedRequest, wanted: NextWanted | None, answer: dict) -> JsonResponse:
    """The answer, with the next item leased when asked (None rather than an error: the answer went in)."""
    if wanted is not None:
        try:
            answer["next"] = _claimed(request, wanted)
        except ClaimRefused:
            answer["next"] = None
    return JsonResponse(answer)


def _own_item(request: AuthenticatedRequest, item_id: int) -> int:
    """The item's id, if this person was handed it (a lease, even lapsed) or already answered it."""
    ensure_handed(item_id, request.user)
    return item_id


@endpoint("POST")
def claim(request: AuthenticatedRequest) -> JsonResponse:
    """The next question (the one held already first), or null when the queue has none for this person."""
    return JsonResponse({"item": _claimed(request, _next_wanted(read_json_object(request, CLAIM_FIELDS)))})


@endpoint("POST")
def renew_lease(request: AuthenticatedRequest, item_id: int) -> JsonResponse:
    read_json_object(request, ())
    return JsonResponse({"renewed": renew(_own_item(request, item_id), request.user)})


@endpoint("POST")
def submit_answer(request: AuthenticatedRequest, item_id: int) -> JsonResponse:
    body = read_json_object(request, SUBMIT_FIELDS)
    decision = text_field(body, "decision", choices=tuple(DECISIONS))
    if decision is None:
        raise BadInput(f"field 'decision': required, one of {', '.join(DECISIONS)}")
    wanted, want_next = _next_wanted(body), flag_field(body, "next")  # checked even when no next is asked for
    source = "api" if _is_script(request) else "web"
    review = submit(item_id, request.user, decision, source=source, require_claim=True)
    item = review.item  # as the review left it (resolved or still open)
    answer = {
        "review": {
            "id": review.pk,
            "item_id": item.pk,
            "decision": review.decision,
            "at": review.created_at.isoformat(),
        },
        "item_status": item.status,
        "resolution": item.resolution,
    }
    return _answer_with_next(request, wanted if want_next else None, answer)


@endpoint("POST")
def skip_item(request: AuthenticatedRequest, item_id: int) -> JsonResponse:
    body = read_json_object(request, SKIP_FIELDS)
    wanted, want_next = _next_wanted(body), flag_field(body, "next")  # checked even when no next is asked for
    skip(_own_item(request, item_id), request.user)
    return _answer_with_next(request, wanted if want_next else None, {"skipped": item_id})


@endpoint("POST")
def reveal(request: AuthenticatedRequest, item_id: int) -> JsonResponse:
    """The current label and the model's belief, for a person who holds the item or answered it. They are not in
    the question itself: a page asks for them once its annotator has listened (or pressed L), a script when it
    chooses, so they never arrive unasked."""
    read_json_object(request, ())
    return JsonResponse(revealed_label(request.user, item_id))


@endpoint("POST")
def undo(request: AuthenticatedRequest) -> JsonResponse:
    """Take back this person's latest answer; the item comes back to them (null if they answered nothing)."""
    read_json_object(request, ())
    item = undo_last(request.user)
    return JsonResponse({"item": None if item is None else item_payload(item)})


@endpoint("GET")
def my_tally(request: AuthenticatedRequest) -> JsonResponse:
    return JsonResponse(tally(request.user))


@endpoint("GET")
def my_history(request: AuthenticatedRequest) -> JsonResponse:
    limit = query_int(request, "limit", 50, maximum=MAX_HISTORY) or 50  # never None: it has a default
    before = query_int(request, "before", None)
    return JsonResponse({"reviews": history(request.user, limit=limit, before_id=before)})


@require_GET
def openapi_schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(schema(request.build_absolute_uri("/")))


def _is_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") != "review-page"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": f"CSRF check failed ({reason}): send the csrftoken cookie's value in the X-CSRFToken header"},
            status=403,
        )
    return django_csrf_failure(request, reason)
