"""The one layer every request passes through before a view: malformed input becomes a 400 that names the field.

- `InputGuardMiddleware` refuses NUL characters anywhere in the address, the query or a form (PostgreSQL cannot
  store them and the database driver raises) and API bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413); it answers
  a wrong method on the API in JSON (405).
- `LimitedUploadHandler` stops a file upload past IMPORT_MAX_UPLOAD_BYTES while it arrives.
- `IdConverter` (`<id:…>` in URLs) matches only ids the database can hold, so a 30-digit id is a 404.
- `query_int` reads a whole number from the query string of a page. (The API's bodies and queries are
  validated by their types: auditor.review.api_schemas.)
- The error handlers answer JSON on /api/ paths (400, 403, 404, 413, 500) and the site's pages elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse

from auditor.error_pages import refusal_page, server_error_page

API_PREFIX = "/api/"
MAX_ID = 2**63 - 1  # the largest value of a BigAutoField (PostgreSQL bigint, SQLite integer)
NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadInput(ValueError):
    """A request value is malformed; the message names the field. `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def body_too_large() -> BadInput:
    return BadInput(f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes", 413)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """JSON `{"error": …}` on the API, a plain page elsewhere."""
    if is_api(request):
        return JsonResponse({"error": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _nul_field(pairs: Iterable[tuple[str, list[Any]]]) -> str | None:
    for key, values in pairs:
        if NUL in key or any(isinstance(value, str) and NUL in value for value in values):
            return key.replace(NUL, "\\0")
    return None


class InputGuardMiddleware:
    """Refuse, before any view runs, input that no view can take: see the module's docstring."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refusal = self._refusal(request)
        except RequestDataTooBig:
            refusal = body_too_large()
        except SuspiciousOperation as exc:  # too many fields, a malformed multipart body
            refusal = BadInput(f"the request could not be read: {exc}")
        if refusal is not None:
            return error_response(request, str(refusal), refusal.status)
        response = self.get_response(request)
        if response.status_code == 405 and is_api(request) and "json" not in response.get("Content-Type", ""):
            # The API's router answers a wrong method with Django's bare 405; API clients get JSON everywhere.
            allowed = response.get("Allow", "")
            response = JsonResponse({"error": f"use {allowed} on this address"}, status=405)
            response["Allow"] = allowed
        return response

    @staticmethod
    def _refusal(request: HttpRequest) -> BadInput | None:
        if NUL in request.path:
            return BadInput("the address contains a NUL character")
        field = _nul_field(request.GET.lists())
        if field is not None:
            return BadInput(f"field {field!r}: contains a NUL character")
        if is_api(request):
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return body_too_large()
            # Read (and kept) now: the CSRF check reads a form body as a stream, which would leave nothing for the
            # API's parser to refuse with a clear message (it takes JSON only).
            request.body  # noqa: B018
            return None
        if request.method == "POST" and request.content_type in FORM_TYPES:
            field = _nul_field(request.POST.lists())
            if field is not None:
                return BadInput(f"field {field!r}: contains a NUL character")
        return None


class LimitedUploadHandler(FileUploadHandler):
    """Stops reading an upload once it passes IMPORT_MAX_UPLOAD_BYTES (the request says so in `upload_too_large`),
    so a huge file is never written to disk whole. The handlers after it store what it lets through."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:  # noqa: N803
        self.limit = settings.IMPORT_MAX_UPLOAD_BYTES
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                self.request.upload_too_large = True  # type: ignore[attr-defined]  # read by the import view
            raise StopUpload(connection_reset=False)  # the rest is read and dropped, so the page still answers
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class IdConverter:
    """`<id:name>` in a URL: a row id, at most 18 digits (every id a BigAutoField holds up to 10^18)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


# ---- query strings --------------------------------------------------------------------------------------------


def query_int(
    request: HttpRequest, name: str, default: int | None, *, minimum: int = 1, maximum: int = MAX_ID
) -> int | None:
    """A whole number from the query string, within [minimum, maximum]; `default` when absent."""
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or len(raw) > 19 or not minimum <= int(raw) <= maximum:
        raise BadInput(f"field {name!r}: expected a whole number from {minimum} to {maximum}")
    return int(raw)


# ---- error pages (handler400 … handler500 in auditor.urls) ----------------------------------------------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": f"bad request: {exception}" if str(exception) else "bad request"}, status=400)
    # The exception's text is not shown: it can quote settings (DisallowedHost names ALLOWED_HOSTS).
    return refusal_page(request, "400.html", 400, "Bad request: this address or form could not be read.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": str(exception) or "not allowed"}, status=403)
    reason = str(exception) or "Your account may not open this page."
    return refusal_page(request, "403.html", 403, f"Forbidden: {reason}", reason=reason)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": f"no such address: {request.path}"}, status=404)
    # A view's Http404 says what is missing ("no such item in your queue"); an unknown address carries the URL
    # patterns tried, which are not shown.
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    return refusal_page(request, "404.html", 404, f"Not found: {request.path}", reason=message)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "the server failed; the error was logged"}, status=500)
    return server_error_page()
