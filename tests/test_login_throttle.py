"""Wrong passwords are throttled per account and per client address; signed-in sessions are not affected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user

pytestmark = pytest.mark.django_db


def log_in(username: str, password: str, address: str = "10.0.0.1") -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post("/login/", {"username": username, "password": password}).status_code


@pytest.fixture
def ann(settings) -> str:
    settings.AXES_FAILURE_LIMIT = 5
    _, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    return password


def test_after_too_many_wrong_passwords_the_account_is_paused_even_for_the_right_one(ann, settings):
    for _ in range(4):
        assert log_in("ann", "wrong") == 200  # the form again, with its error
    assert log_in("ann", "wrong") == 429  # the fifth reaches the limit
    client = Client(REMOTE_ADDR="10.0.0.9")  # from elsewhere too: the account itself is paused
    response = client.post("/login/", {"username": "ann", "password": ann})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode() and "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_one_address_guessing_many_accounts_is_paused(ann):
    for number in range(5):
        log_in(f"guess{number}", "wrong", address="10.0.0.66")
    assert log_in("ann", ann, address="10.0.0.66") == 429
    assert log_in("ann", ann, address="10.0.0.7") == 302  # another address, an account with no failures: fine


def test_the_pause_ends_after_the_lockout_window(ann):
    for _ in range(5):
        log_in("ann", "wrong")
    assert log_in("ann", ann) == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert log_in("ann", ann) == 302


def test_a_signed_in_annotator_keeps_working_while_their_account_is_attacked(ann):
    annotator = Client(REMOTE_ADDR="10.0.0.2")
    assert annotator.post("/login/", {"username": "ann", "password": ann}).status_code == 302
    for _ in range(6):
        log_in("ann", "wrong", address="10.0.0.99")
    assert log_in("ann", ann, address="10.0.0.3") == 429
    claim = annotator.post("/api/review/claim", "{}", content_type="application/json")
    assert claim.status_code == 200 and claim.json() == {"item": None}
    assert annotator.get("/review/").status_code == 200


def test_behind_a_proxy_the_address_the_proxy_saw_counts(ann, settings):
    settings.BEHIND_PROXY = True
    for number in range(5):  # the client forges the first entry; the proxy appends the real one
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{number}, 203.0.113.5").post(
            "/login/", {"username": f"guess{number}", "password": "wrong"}
        )
    locked = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert locked.post("/login/", {"username": "ann", "password": ann}).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")  # same proxy, another client
    assert other.post("/login/", {"username": "ann", "password": ann}).status_code == 302


def test_a_guesser_cannot_reset_their_count_by_logging_into_their_own_account(ann):
    _, own = create_or_reset_user("mallory", role=ANNOTATOR_GROUP)
    for number in range(4):
        log_in(f"victim{number}", "wrong", address="10.0.0.66")
        assert log_in("mallory", own, address="10.0.0.66") == 302  # a success between the guesses
    assert log_in("victim9", "wrong", address="10.0.0.66") == 429  # the fifth failure from there still counts
