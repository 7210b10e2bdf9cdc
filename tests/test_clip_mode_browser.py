"""Clip mode in a real browser: one listen per clip, its questions as rows answered by keyboard, each row one review
of one question; the one-question mode a key away (headless Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.queue.models import Review, ReviewItem
from tests.browser import ARTIFACTS, DESKTOP, PHONE, needs_chromium
from tests.test_accessibility_browser import serious_violations
from tests.test_clip_mode_api import make_clip_queue
from tests.test_review_browser import wait_until
from tests.test_review_page_keys import signed_in_page, wait_for_clip

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


def decisions(clip) -> dict[str, str]:
    return dict(Review.objects.filter(item__clip=clip).values_list("item__tag__name", "decision"))


def test_a_clip_with_several_questions_is_answered_row_by_row_after_one_listen(
    browser, live_server, tmp_path: Path
) -> None:
    clips = make_clip_queue(tmp_path / "audio", clips=2, seconds=4.0, tags=["rock", "drums", "guitar"])
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "song0.wav")
    page.wait_for_function("document.querySelectorAll('#clip-rows li').length === 3", timeout=10000)
    assert page.is_visible("text=Which of these are present?")
    # By tag name: the calibration pair (rock) is one row among the others.
    assert page.locator("#clip-rows li strong").all_text_contents() == ["drums", "guitar", "rock"]

    # After 3 s of listening every row shows its current label and the model's belief.
    page.wait_for_selector("#clip-rows .row-reveal", timeout=10000)
    assert page.locator("#clip-rows .row-reveal").count() == 3
    # One clip, one listen: the page fetched the clip's audio from one address, not once per question.
    audio = page.evaluate("performance.getEntriesByType('resource').map(e => e.name).filter(u => u.endsWith('/audio'))")
    first_clip = {
        f"/review/items/{pk}/audio" for pk in ReviewItem.objects.filter(clip=clips[0]).values_list("pk", flat=True)
    }
    assert len({url for url in audio if any(url.endswith(path) for path in first_clip)}) == 1, audio

    page.keyboard.press("y")  # drums: present, the mark moves to guitar
    page.keyboard.press("Enter")  # two rows unanswered: refused, nothing sent
    assert "2 rows still without an answer" in page.text_content("#flash")
    assert Review.objects.count() == 0
    page.keyboard.press("3")  # rock: present …
    page.keyboard.press("3")  # … again: absent
    page.keyboard.press("ArrowUp")  # back to guitar
    page.keyboard.press("u")
    assert page.text_content("#rows-status") == "3 of 3 answered"
    assert page.text_content("#flash") == "Every row has an answer: Enter sends them."
    assert not serious_violations(page)
    page.set_viewport_size(PHONE)  # the rows wrap on a phone: nothing runs off the screen
    page.screenshot(path=str(ARTIFACTS / "review-page-clip-mode-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not serious_violations(page)
    page.set_viewport_size(DESKTOP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-clip-mode.png"), full_page=True)
    page.keyboard.press("Enter")

    wait_for_clip(page, "song1.wav")
    wait_until(lambda: Review.objects.count() == 3)
    assert decisions(clips[0]) == {"drums": "present", "guitar": "unsure", "rock": "absent"}
    # Each row was one answer to one question: drums and rock resolved, the unsure one waits for someone else.
    statuses = dict(ReviewItem.objects.filter(clip=clips[0]).values_list("tag__name", "status"))
    assert statuses == {"drums": "resolved", "guitar": "open", "rock": "resolved"}

    # M: one question at a time; the clip's first question alone, answered with 2 = absent.
    page.keyboard.press("m")
    page.wait_for_selector("#single-question", state="visible")
    assert page.is_hidden("#clip-rows")
    page.keyboard.press("2")
    wait_until(lambda: len(decisions(clips[1])) == 1)
    assert list(decisions(clips[1]).values()) == ["absent"]
    # The choice is remembered: a reload stays in question mode.
    page.reload()
    wait_for_clip(page, "song1.wav")
    assert page.text_content("#mode-switch") == "Mode: one question at a time"
    assert page.is_hidden("#clip-rows")


def test_a_clip_with_one_question_is_asked_as_one_question(browser, live_server, tmp_path: Path) -> None:
    clips = make_clip_queue(tmp_path / "audio", clips=1, seconds=2.0, tags=["rock"])
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "song0.wav")
    assert page.is_visible("#single-question") and page.is_hidden("#clip-rows")
    page.keyboard.press("1")
    wait_until(lambda: decisions(clips[0]) == {"rock": "present"})
    page.wait_for_selector("#empty-state", state="visible")
