"""An annotator reviews in a real browser (headless Chromium), with the keyboard only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
from auditor.queue.models import Lease, Review
from tests.browser import ARTIFACTS, needs_chromium
from tests.conftest import make_review_queue

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the live server answers from its own thread and connection
    needs_chromium,
]


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_annotator_reviews_with_the_keyboard(browser, live_server, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 5, seconds=8.0)
    user, password = create_or_reset_user("kim", role=ANNOTATOR_GROUP)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    audio_statuses: list[int] = []
    page.on("response", lambda r: audio_statuses.append(r.status) if r.url.endswith("/audio") else None)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "kim")
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/review/")

    def on_screen(clip: str) -> None:
        try:
            page.wait_for_function(
                f"document.getElementById('clip-path').textContent.endsWith('{clip}')", timeout=10000
            )
        except Exception:
            raise AssertionError(
                f"{clip} never came; the page says {page.text_content('#flash')!r}, "
                f"on screen: {page.text_content('#clip-path')!r}"
            ) from None

    on_screen("clip0.wav")
    assert page.text_content("#tag-name") == "rock"
    # Hearing it: the element's clock advances (playback started by the page; space pauses and resumes).
    page.wait_for_function("document.getElementById('player').currentTime > 0.3", timeout=10000)
    assert not page.is_visible("#reveal")  # playing is not yet listening: the label stays hidden …
    page.wait_for_selector("#reveal", state="visible", timeout=10000)  # … until 3 s were heard
    assert page.evaluate("document.getElementById('player').currentTime") >= 3
    assert "not tagged rock" in page.text_content("#reveal")
    page.keyboard.press("Space")
    assert page.evaluate("document.getElementById('player').paused")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.getElementById('player').currentTime >= 5", timeout=10000)
    page.keyboard.press("]")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.25
    assert 206 in audio_statuses  # the browser fetched byte ranges and got them
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

    page.keyboard.press("1")  # clip0 present
    on_screen("clip1.wav")
    page.keyboard.press("n")  # clip1 absent
    on_screen("clip2.wav")
    page.keyboard.press("s")  # clip2 skipped
    on_screen("clip3.wav")
    page.keyboard.press("3")  # clip3 unsure …
    on_screen("clip4.wav")
    page.keyboard.press("z")  # … taken back
    on_screen("clip3.wav")
    page.keyboard.press("2")  # clip3 absent
    on_screen("clip4.wav")
    page.keyboard.press("y")  # clip4 present
    page.wait_for_selector("#empty-state", state="visible")
    page.wait_for_function("document.getElementById('flash').textContent.includes('clip4.wav')")
    page.screenshot(path=str(ARTIFACTS / "review-page-empty.png"))

    expected = {items[0].pk: "present", items[1].pk: "absent", items[3].pk: "absent", items[4].pk: "present"}
    wait_until(lambda: Review.objects.count() == 4)
    assert dict(Review.objects.filter(user=user).values_list("item_id", "decision")) == expected
    assert Review.objects.exclude(user=user).count() == 0
    assert Lease.objects.get(item=items[2], user=user).skipped
    assert page.text_content("#tally-today") == "4"
    assert User.objects.count() == 1
