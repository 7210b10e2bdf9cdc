"""The review flow as a JSON API (claim, renew, submit, skip, undo, tally, history) for the page and scripts.

Authentication is the site's session cookie; every write needs the CSRF token in the X-CSRFToken header
(the `csrftoken` cookie's value). Errors are JSON objects with an `error` message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.http import require_GET, require_http_methods

from auditor.accounts.roles import api_annotator_required
from auditor.audits.claims import ClaimRefused, claim_next, ensure_handed, renew, skip, submit, undo_last
from auditor.audits.models import ReviewItem
from auditor.audits.reviews import DECISIONS, ReviewRefused
from auditor.datasets.models import Dataset
from auditor.review.openapi import schema
from auditor.review.queries import history, item_payload, tally

MAX_EXCLUDE = 10
MAX_HISTORY = 500


class BadRequest(ValueError):
    """The request is malformed; the message names the field."""


def endpoint(method: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """An API view: only `method`, annotators only (JSON 401/403), refusals as JSON 400/404/409."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return JsonResponse({"error": str(exc)}, status=400)
            except (ReviewRefused, ClaimRefused) as exc:
                return JsonResponse({"error": str(exc)}, status=409)
            except ReviewItem.DoesNotExist:
                return JsonResponse({"error": "no such review item"}, status=404)

        return require_http_methods([method])(api_annotator_required(wrapper))

    return decorator


def _body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body
    return request.POST.dict()


def _exclude(body: dict) -> list[int]:
    value = body.get("exclude", [])
    if not isinstance(value, list) or len(value) > MAX_EXCLUDE or not all(type(v) is int for v in value):
        raise BadRequest(f"field 'exclude': expected a list of at most {MAX_EXCLUDE} item ids")
    return value


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if value in (True, False, "true", "false", "1", "0"):
        return value in (True, "true", "1")
    raise BadRequest(f"field {name!r}: expected true or false")


def _dataset_id(body: dict) -> int | None:
    name = body.get("dataset")
    if name in (None, ""):
        return None
    if not isinstance(name, str):
        raise BadRequest("field 'dataset': expected a dataset name")
    found = Dataset.objects.filter(name=name).values_list("pk", flat=True).first()
    if found is None:
        raise BadRequest(f"field 'dataset': no dataset {name!r}")
    return found


def _claimed(request: HttpRequest, body: dict) -> dict | None:
    item = claim_next(request.user, dataset_id=_dataset_id(body), exclude=_exclude(body))
    return None if item is None else item_payload(item)


def _answer_with_next(request: HttpRequest, body: dict, answer: dict, want_next: bool) -> JsonResponse:
    """The answer, with the next item leased when asked (None rather than an error: the answer went in)."""
    if want_next:
        try:
            answer["next"] = _claimed(request, body)
        except ClaimRefused:
            answer["next"] = None
    return JsonResponse(answer)


def _own_item(request: HttpRequest, item_id: int) -> int:
    """The item's id, if this person was handed it (a lease, even lapsed) or already answered it."""
    ensure_handed(item_id, request.user)
    return item_id


@endpoint("POST")
def claim(request: HttpRequest) -> JsonResponse:
    """The next question (the one held already first), or null when the queue has none for this person."""
    return JsonResponse({"item": _claimed(request, _body(request))})


@endpoint("POST")
def renew_lease(request: HttpRequest, item_id: int) -> JsonResponse:
    return JsonResponse({"renewed": renew(_own_item(request, item_id), request.user)})


@endpoint("POST")
def submit_answer(request: HttpRequest, item_id: int) -> JsonResponse:
    body = _body(request)
    decision = body.get("decision")
    if decision not in DECISIONS:
        raise BadRequest(f"field 'decision': expected one of {', '.join(DECISIONS)}, got {decision!r}")
    want_next = _flag(body, "next")
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
    return _answer_with_next(request, body, answer, want_next)


@endpoint("POST")
def skip_item(request: HttpRequest, item_id: int) -> JsonResponse:
    body = _body(request)
    want_next = _flag(body, "next")
    skip(_own_item(request, item_id), request.user)
    return _answer_with_next(request, body, {"skipped": item_id}, want_next)


@endpoint("POST")
def undo(request: HttpRequest) -> JsonResponse:
    """Take back this person's latest answer; the item comes back to them (null if they answered nothing)."""
    item = undo_last(request.user)
    return JsonResponse({"item": None if item is None else item_payload(item)})


@endpoint("GET")
def my_tally(request: HttpRequest) -> JsonResponse:
    return JsonResponse(tally(request.user))


@endpoint("GET")
def my_history(request: HttpRequest) -> JsonResponse:
    try:
        limit = int(request.GET.get("limit", 50))
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        raise BadRequest("fields 'limit' and 'before' must be whole numbers") from None
    if not 1 <= limit <= MAX_HISTORY:
        raise BadRequest(f"field 'limit': expected 1 to {MAX_HISTORY}")
    return JsonResponse({"reviews": history(request.user, limit=limit, before_id=before)})


@require_GET
def openapi_schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(schema(request.build_absolute_uri("/")))


def _is_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") != "review-page"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": f"CSRF check failed ({reason}): send the csrftoken cookie's value in the "
                                      "X-CSRFToken header"}, status=403)  # fmt: skip
    return django_csrf_failure(request, reason)
