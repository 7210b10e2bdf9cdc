"""The review flow as a JSON API (claim, renew, submit, skip, reveal, undo, tally, history) for the page and scripts.

Built on django-ninja: each request is validated whole against the types in `api_schemas` (body, path and
query) before the view runs, so nothing is written for a request with any bad field; the OpenAPI document
(/api/schema.json) and its rendered docs (/api/docs) are generated from the same types.

Authentication is the site's session cookie; every write needs the CSRF token in the X-CSRFToken header (the
`csrftoken` cookie's value). Errors are JSON objects with an `error` message that names the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.parser import Parser
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf
from pydantic import Field

from auditor.accounts.roles import AuthenticatedRequest, is_admin, is_annotator
from auditor.datasets.models import Dataset
from auditor.inputs import MAX_ID, BadInput, body_too_large
from auditor.queue.claims import (
    ClaimRefused,
    claim_clip,
    claim_next,
    ensure_handed,
    renew,
    skip,
    submit,
    undo_last,
)
from auditor.queue.models import ReviewItem
from auditor.queue.reviews import ReviewRefused
from auditor.review.api_schemas import (
    MAX_HISTORY,
    Claimed,
    ClaimedClip,
    ClaimRequest,
    ClipClaimRequest,
    Empty,
    Error,
    History,
    ItemId,
    NextWanted,
    Renewed,
    Revealed,
    Skipped,
    SkipRequest,
    SubmitRequest,
    Submitted,
    Tally,
    TallyQuery,
    Windows,
)
from auditor.review.outlook import queue_outlook
from auditor.review.queries import history, item_payload, revealed_label, tally
from auditor.runs.evidence import where_in_clip

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class NotAnAnnotator(Exception):
    pass


class CsrfRefused(Exception):
    pass


class AnnotatorSession(APIKeyCookie):
    """The site's session cookie, for annotators (and admins); a write also needs the CSRF token.

    Checked in this order: logged in (401), the CSRF token on a write (403), the role (403).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)  # the CSRF check comes after the login check, below

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not user.is_authenticated:
            return None  # answered 401 by the AuthenticationError handler
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfRefused()
        if not is_annotator(user):
            raise NotAnAnnotator()
        assert isinstance(user, User)
        return user


class StrictJSON(Parser):
    """JSON bodies only, as an object; no NaN or Infinity, no integers of thousands of digits, no deep nesting."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # ninja wraps what this raises in a plain 400; the handler of HttpError below answers with this message.
        if request.content_type != "application/json":
            raise BadInput("send the body as JSON, with Content-Type: application/json", status=415)
        try:
            raw = request.body
        except RequestDataTooBig:
            raise body_too_large() from None
        try:
            body = json.loads(raw, parse_constant=_refuse_constant)
        except RecursionError:
            raise BadInput("the body is nested too deeply") from None
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, integers of over 4,300 digits
            raise BadInput(f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadInput("the body must be a JSON object")
        return body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


api = NinjaAPI(
    title="Label Auditor review API",
    version="1",
    description="Claim (clip, tag) questions, answer them, skip, undo; your tally and history. Log in at /login/ "
    "for the session cookie; send the csrftoken cookie's value as X-CSRFToken on every POST.",
    urls_namespace="api",
    auth=AnnotatorSession(),
    parser=StrictJSON(),
    openapi_url="/schema.json",
    docs_url="/docs",
    docs=Swagger(settings={"validatorUrl": None}),  # the docs page asks no outside host for anything
)

ERRORS: dict[int, type[Schema]] = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error}


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return api.create_response(request, {"error": message}, status=status)


@api.exception_handler(BadInput)
def _bad_input(request: HttpRequest, exc: BadInput) -> HttpResponse:
    return _error(request, str(exc), exc.status)


def _answer(status: int, message: str | None = None) -> Callable[[HttpRequest, Any], HttpResponse]:
    """A handler that answers `status` with `message`, or with the exception's own message."""

    def handler(request: HttpRequest, exc: Any) -> HttpResponse:
        return _error(request, message or str(exc), status)

    return handler


for _exception, _status, _message in [
    (ReviewRefused, 409, None),
    (ClaimRefused, 409, None),
    (ReviewItem.DoesNotExist, 404, "no such review item"),
    (AuthenticationError, 401, "log in first (session cookie)"),
    (CsrfRefused, 403, "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken header"),
    (NotAnAnnotator, 403, "this endpoint is for annotators"),
]:
    api.add_exception_handler(_exception, _answer(_status, _message))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BadInput):  # the body parser's own message (see StrictJSON)
        return _error(request, str(exc.__cause__), exc.__cause__.status)
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, validation_message(exc.errors[0]), 400)


def validation_message(error: dict[str, Any]) -> str:
    """pydantic's first complaint, naming the field as the rest of the site does: "field 'decision': …"."""
    location = [part for part in error.get("loc", ()) if isinstance(part, str)]
    where, *path = location or ["body"]
    if where == "body" and path:
        path = path[1:]  # the view's parameter name, not a field of the request
    if not path:
        return "the body is missing: send a JSON object" if error.get("type") == "missing" else error["msg"]
    field = path[0]
    if error.get("type") == "extra_forbidden":
        return f"field {field!r}: not a field of this request"
    if error.get("type") == "missing":
        return f"field {field!r}: required"
    return f"field {field!r}: {error['msg'][0].lower()}{error['msg'][1:]}"


def _dataset_id(wanted: NextWanted | TallyQuery | ClipClaimRequest) -> int | None:
    if wanted.dataset is None:
        return None
    dataset_id = Dataset.objects.filter(name=wanted.dataset).values_list("pk", flat=True).first()
    if dataset_id is None:
        raise BadInput(f"field 'dataset': no dataset {wanted.dataset!r}")
    return dataset_id


def _claimed(user: User, wanted: NextWanted, dataset_id: int | None) -> dict | None:
    item = claim_next(user, dataset_id=dataset_id, exclude=wanted.exclude)
    return None if item is None else item_payload(item)


def _next(user: User, wanted: NextWanted, dataset_id: int | None) -> dict | None:
    """The next item after an answer or a skip: None rather than an error when none can be had (it went in)."""
    try:
        return _claimed(user, wanted, dataset_id)
    except ClaimRefused:
        return None


def _is_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") != "review-page"


@api.post("/review/claim", response={200: Claimed, **ERRORS}, url_name="claim")
def claim(request: AuthenticatedRequest, payload: ClaimRequest | None = None) -> dict:
    """Lease the next question (the one already held first); null when the queue has none for you."""
    wanted = payload or ClaimRequest()
    return {"item": _claimed(request.user, wanted, _dataset_id(wanted))}


@api.post("/review/claim-clip", response={200: ClaimedClip, **ERRORS}, url_name="claim-clip")
def claim_a_clip(request: AuthenticatedRequest, payload: ClipClaimRequest | None = None) -> dict:
    """Clip mode: lease the next clip's questions together (up to 9, a held clip first), to answer after one
    listen; an empty list when the queue has none for you."""
    wanted = payload or ClipClaimRequest()
    items = claim_clip(request.user, dataset_id=_dataset_id(wanted), exclude_clips=wanted.exclude_clips)
    return {"items": [item_payload(item) for item in items]}


@api.post("/review/items/{id:item_id}/renew", response={200: Renewed, **ERRORS}, url_name="renew")
def renew_lease(request: AuthenticatedRequest, item_id: ItemId, payload: Empty | None = None) -> dict:
    """Extend your lease on the item (pages call this while it is on screen)."""
    ensure_handed(item_id, request.user)
    return {"renewed": renew(item_id, request.user)}


@api.post("/review/items/{id:item_id}/submit", response={200: Submitted, **ERRORS}, url_name="submit")
def submit_answer(request: AuthenticatedRequest, item_id: ItemId, payload: SubmitRequest) -> dict:
    """Answer the item; the same answer twice counts once. With `next`, the next item comes with the answer."""
    dataset_id = _dataset_id(payload)  # checked even when no next item is asked for
    source = "api" if _is_script(request) else "web"
    review = submit(item_id, request.user, payload.decision, source=source, require_claim=True, note=payload.note)
    item = review.item  # as the review left it (resolved or still open)
    answer: dict[str, Any] = {
        "review": {"id": review.pk, "item_id": item.pk, "decision": review.decision, "at": review.created_at},
        "item_status": item.status,
        "resolution": item.resolution,
    }
    if payload.next:
        answer["next"] = _next(request.user, payload, dataset_id)
    return answer


@api.post("/review/items/{id:item_id}/skip", response={200: Skipped, **ERRORS}, url_name="skip")
def skip_item(request: AuthenticatedRequest, item_id: ItemId, payload: SkipRequest | None = None) -> dict:
    """Give the item back unanswered; it is not offered to you again."""
    wanted = payload or SkipRequest()
    dataset_id = _dataset_id(wanted)
    ensure_handed(item_id, request.user)
    skip(item_id, request.user)
    answer: dict[str, Any] = {"skipped": item_id}
    if wanted.next:
        answer["next"] = _next(request.user, wanted, dataset_id)
    return answer


@api.post("/review/items/{id:item_id}/reveal", response={200: Revealed, **ERRORS}, url_name="reveal")
def reveal(request: AuthenticatedRequest, item_id: ItemId, payload: Empty | None = None) -> dict:
    """The item's current label and the model's belief, for its holder or a past reviewer. They are not in the
    question itself: a page asks once its annotator has listened (or pressed L), a script when it chooses."""
    return revealed_label(request.user, item_id)


@api.post("/review/undo", response={200: Claimed, **ERRORS}, url_name="undo")
def undo(request: AuthenticatedRequest, payload: Empty | None = None) -> dict:
    """Take back your latest answer; the item is yours again (null if you answered nothing)."""
    item = undo_last(request.user)
    return {"item": None if item is None else item_payload(item)}


@api.get("/review/items/{id:item_id}/windows", response={200: Windows, **ERRORS}, url_name="windows")
def windows(request: AuthenticatedRequest, item_id: ItemId) -> dict:
    """Where in the clip the model hears the item's tag, window by window, for its holder, a past reviewer or an
    admin (an empty list when no run kept the clip's windows)."""
    if not is_admin(request.user):
        ensure_handed(item_id, request.user)
    item = ReviewItem.objects.select_related("run", "clip").get(pk=item_id)
    return where_in_clip(item)


@api.get("/review/tally", response={200: Tally, **ERRORS}, url_name="tally")
def my_tally(request: AuthenticatedRequest, query: Query[TallyQuery]) -> dict:
    """Your reviews today and the open items still waiting for your answer; audits under way, which bring new
    questions, and tag focus, which holds some back (for one dataset with `dataset`)."""
    return {**tally(request.user), **queue_outlook(_dataset_id(query))}


class HistoryQuery(Schema):
    limit: int = Field(50, ge=1, le=MAX_HISTORY)
    before: int | None = Field(None, ge=1, le=MAX_ID, description="Only reviews with a smaller review_id (paging).")


@api.get("/review/history", response={200: History, **ERRORS}, url_name="history")
def my_history(request: AuthenticatedRequest, query: Query[HistoryQuery]) -> dict:
    """Your own reviews, newest first."""
    return {"reviews": history(request.user, limit=query.limit, before_id=query.before)}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": f"CSRF check failed ({reason}): send the csrftoken cookie's value in the X-CSRFToken header"},
            status=403,
        )
    return django_csrf_failure(request, reason)
