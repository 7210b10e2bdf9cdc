"""Error pages a person can act on: 400, 403, 404 and 500 in the site's frame (JSON on the API), and refusals
logged as one line while server errors keep their traceback.

This module is also the URL configuration of the tests that need a view that fails (`ROOT_URLCONF` below).
"""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from auditor.urls import handler400, handler403, handler404, handler500  # noqa: F401 - the handlers under test

pytestmark = pytest.mark.django_db

ADMIN_PAGE = "/datasets/queue/health/"
FAILING_URLS = __name__


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("This shelf is for librarians.")


def refuse_without_reason(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def misread(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("the secret setting SOMETHING is wrong")


def lose(request: HttpRequest) -> HttpResponse:
    raise Http404("no such shelf in this library")


def fail(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the disk is on fire")


urlpatterns = [
    path("test-refuse/", refuse),
    path("test-refuse-plain/", refuse_without_reason),
    path("test-misread/", misread),
    path("test-lose/", lose),
    path("test-fail/", fail),
    path("api/test-refuse", refuse),
    path("api/test-fail", fail),
    path("", include("auditor.urls")),
]


def is_html(response: HttpResponse) -> bool:
    return response["Content-Type"].startswith("text/html")


def in_the_site_frame(response: HttpResponse) -> bool:
    return b'class="topbar"' in response.content and b"css/site.css" in response.content


# ---- 403 ----------------------------------------------------------------------------------------------------


def test_an_annotator_on_an_admin_page_is_told_it_is_for_admins_with_the_site_nav(annotator_client: Client) -> None:
    response = annotator_client.get(ADMIN_PAGE)
    assert response.status_code == 403 and is_html(response) and in_the_site_frame(response)
    assert b"This page is for admins." in response.content
    assert b"bob-annotator" in response.content and b"Log out" in response.content  # the nav of who is signed in
    assert b'href="/review/">Go to the review page' in response.content


def test_a_refusal_without_a_reason_still_says_what_happened(annotator_client: Client) -> None:
    with override_settings(ROOT_URLCONF=FAILING_URLS):
        response = annotator_client.get("/test-refuse-plain/")
    assert response.status_code == 403 and in_the_site_frame(response)
    assert b"Your account may not open this page." in response.content


def test_a_refused_visitor_who_is_not_logged_in_is_offered_the_login(client: Client) -> None:
    with override_settings(ROOT_URLCONF=FAILING_URLS):
        response = client.get("/test-refuse/")
    assert response.status_code == 403 and in_the_site_frame(response)
    assert b"This shelf is for librarians." in response.content
    assert b'href="/login/?next=/test-refuse/"' in response.content


def test_a_user_without_a_role_is_told_to_ask_for_one(outsider_client: Client) -> None:
    response = outsider_client.get(ADMIN_PAGE)
    assert response.status_code == 403 and in_the_site_frame(response)
    assert b"no role yet" in response.content


def test_a_403_is_logged_as_one_line_without_a_traceback(annotator_client: Client, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert annotator_client.get(ADMIN_PAGE).status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING and ADMIN_PAGE in record.getMessage()
    assert record.exc_info is None and "Traceback" not in caplog.text


# ---- 404 ----------------------------------------------------------------------------------------------------


def test_an_unknown_address_is_a_styled_404_with_the_way_back(admin_client: Client) -> None:
    response = admin_client.get("/no/such/page/")
    assert response.status_code == 404 and is_html(response) and in_the_site_frame(response)
    assert b"There is nothing here" in response.content and b"/no/such/page/" in response.content
    assert b"Go to the datasets" in response.content
    assert b"tried" not in response.content  # the URL patterns Django tried stay private


def test_a_view_s_404_says_what_is_missing(annotator_client: Client) -> None:
    with override_settings(ROOT_URLCONF=FAILING_URLS):
        response = annotator_client.get("/test-lose/")
    assert response.status_code == 404 and in_the_site_frame(response)
    assert b"No such shelf in this library" in response.content


def test_a_404_for_a_visitor_not_logged_in_offers_the_login(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b'href="/login/"' in response.content


# ---- 400 ----------------------------------------------------------------------------------------------------


def test_a_malformed_request_is_a_styled_400_that_does_not_quote_the_error(annotator_client: Client) -> None:
    with override_settings(ROOT_URLCONF=FAILING_URLS):
        response = annotator_client.get("/test-misread/")
    assert response.status_code == 400 and in_the_site_frame(response)
    assert b"could not be read" in response.content and b"SOMETHING" not in response.content


def test_a_request_refused_before_anyone_is_signed_in_still_gets_the_page(annotator_client: Client, caplog) -> None:
    # A wrong Host header is refused by the middleware that runs before authentication: there is no user.
    with caplog.at_level(logging.ERROR, logger="auditor.error_pages"):
        response = annotator_client.get("/review/", HTTP_HOST="elsewhere.invalid")
    assert response.status_code == 400 and b"could not be read" in response.content
    assert b"Log out" not in response.content
    assert not [r for r in caplog.records if r.name == "auditor.error_pages"]  # the frame did not fail to render


# ---- 500 ----------------------------------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=FAILING_URLS)
def test_a_server_error_is_a_styled_500_drawn_without_the_database(django_assert_num_queries, caplog) -> None:
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="django.request"), django_assert_num_queries(0):
        response = client.get("/test-fail/")
    assert response.status_code == 500 and is_html(response) and in_the_site_frame(response)
    assert b"Something went wrong on our side" in response.content
    assert b"disk is on fire" not in response.content
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR and record.exc_info is not None  # a real error keeps its traceback
    assert "disk is on fire" in caplog.text


@override_settings(ROOT_URLCONF=FAILING_URLS)
def test_the_500_page_falls_back_to_plain_text_when_it_cannot_be_drawn(monkeypatch) -> None:
    def broken(name: str) -> None:
        raise RuntimeError("templates unreadable")

    monkeypatch.setattr("auditor.error_pages.loader.get_template", broken)
    response = Client(raise_request_exception=False).get("/test-fail/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/plain")
    assert b"Server error" in response.content


def test_a_403_page_falls_back_to_plain_text_when_it_cannot_be_drawn(annotator_client: Client, monkeypatch) -> None:
    def broken(name: str) -> None:
        raise RuntimeError("templates unreadable")

    monkeypatch.setattr("auditor.error_pages.loader.get_template", broken)
    response = annotator_client.get(ADMIN_PAGE)
    assert response.status_code == 403 and response.content == b"Forbidden: This page is for admins."


# ---- the API answers JSON -------------------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=FAILING_URLS)
@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/api/no-such-endpoint", 404, "no such address: /api/no-such-endpoint"),
        ("/api/test-refuse", 403, "This shelf is for librarians."),
        ("/api/test-fail", 500, "the server failed; the error was logged"),
    ],
)
def test_the_api_still_answers_json(url: str, status: int, error: str) -> None:
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert response.json() == {"error": error}
