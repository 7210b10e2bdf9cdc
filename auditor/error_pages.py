"""The site's error pages (400, 403, 404, 500) and how refusals are logged.

The handlers in auditor.inputs answer JSON on the API and call these for every other address. A 4xx page has
the site's frame and navigation, says what happened and where this person can go instead. The 500 page is drawn
without the request's context (no session, no database, no context processors): whatever failed may fail again.
Each page falls back to less when drawing it fails, down to plain text, so an error page never becomes a new error.

`RefusalInOneLine` is a logging filter (settings.LOGGING, on `django.request`): a refusal is the site working as
intended, so it is logged as one line rather than a traceback; server errors keep theirs.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader

logger = logging.getLogger(__name__)


def _minimal_context(context: dict[str, Any]) -> dict[str, Any]:
    # What the frame (base.html) needs besides the user, without any context processor.
    return {"source_url": settings.SOURCE_URL, **context}


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def refusal_page(
    request: HttpRequest, template_name: str, status: int, plain_text: str, **context: Any
) -> HttpResponse:
    """A 4xx page in the site's frame, with the navigation of the signed-in user when there is one."""
    context = {"path": request.path, **context}
    try:
        template = loader.get_template(template_name)
        if hasattr(request, "user"):
            return HttpResponse(template.render(context, request), status=status)
        # Refused before the authentication middleware ran (a malformed request): nobody to show a menu to.
        return HttpResponse(template.render(_minimal_context(context)), status=status)
    except Exception:
        logger.exception(
            "the %s page %s failed to render for %s; answering without the site's frame",
            status,
            template_name,
            request.path,
        )
    try:
        return HttpResponse(loader.get_template(template_name).render(_minimal_context(context)), status=status)
    except Exception:
        return _plain(plain_text, status)


SERVER_ERROR_TEXT = "Server error: something went wrong on our side and it was logged. Try again in a moment."


def server_error_page() -> HttpResponse:
    """The 500 page: the site's frame without the user (their session is in the database that may be failing)."""
    try:
        return HttpResponse(loader.get_template("500.html").render(_minimal_context({})), status=500)
    except Exception:
        logger.exception("the 500 page failed to render; answering in plain text")
        return _plain(SERVER_ERROR_TEXT, 500)


class RefusalInOneLine(logging.Filter):
    """Drops the traceback from `django.request` records of a 4xx answer (Django attaches one to every 403).

    The line itself stays (who was refused what, at WARNING); records of a 5xx pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
