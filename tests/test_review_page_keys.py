"""The review page under a person's hands: a focused speed list, fast typing, a refused answer, an empty queue
while an audit runs, and where in the clip the model hears the tag (headless Chromium)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
from auditor.queue.models import ItemNote, Lease, Review, ReviewItem
from auditor.runs.models import AuditRun
from tagging.windows import save_windows
from tests.browser import ARTIFACTS, needs_chromium
from tests.conftest import make_review_queue
from tests.test_review_browser import wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def signed_in_page(browser, live_server, name: str = "kim"):
    _, password = create_or_reset_user(name, role=ANNOTATOR_GROUP)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/review/")
    return page


def wait_for_clip(page, clip: str) -> None:
    page.wait_for_function(f"document.getElementById('clip-path').textContent.endsWith('{clip}')", timeout=10000)


def test_keys_still_answer_after_the_speed_list_was_used(browser, live_server, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 3, seconds=4.0)
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "clip0.wav")
    page.click("#rate")
    page.select_option("#rate", "1.5")
    page.keyboard.press("2")  # absent — not the "2×" speed

    wait_for_clip(page, "clip1.wav")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5
    assert page.input_value("#rate") == "1.5"
    wait_until(lambda: Review.objects.filter(item=items[0]).exists())
    assert Review.objects.get(item=items[0]).decision == "absent"


def test_twenty_answers_typed_within_a_second_are_all_recorded_in_order(
    browser,
    live_server,
    tmp_path: Path,
) -> None:
    items = make_review_queue(tmp_path / "audio", 25, seconds=1.0)
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "clip0.wav")
    page.wait_for_function("!document.getElementById('loading-state') || true")
    # Record whether the page ever claims the queue is empty while it is not.
    page.evaluate(
        """() => {
          window.saidEmpty = false;
          const box = document.getElementById('empty-state');
          new MutationObserver(() => { if (!box.hidden) window.saidEmpty = true; })
            .observe(box, { attributes: true });
        }"""
    )
    keys = ["1", "2", "n", "y"] * 5
    for key in keys:
        page.keyboard.press(key, delay=0)

    wait_until(lambda: Review.objects.count() == 20, timeout=30)
    decisions = {"1": "present", "y": "present", "2": "absent", "n": "absent"}
    recorded = list(Review.objects.order_by("id").values_list("item_id", "decision"))
    assert recorded == [(item.pk, decisions[key]) for item, key in zip(items, keys, strict=False)]
    wait_for_clip(page, "clip20.wav")
    assert not page.evaluate("window.saidEmpty")


def test_an_answer_the_server_refuses_is_shown_as_an_error(browser, live_server, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 3, seconds=4.0)
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "clip0.wav")
    # The lease on the question lapses (the laptop slept): the server refuses the answer with a 409.
    Lease.objects.filter(item=items[0]).update(expires_at=timezone.now() - timedelta(seconds=1))
    page.keyboard.press("1")

    page.wait_for_function("document.getElementById('flash').textContent.startsWith('Not saved')", timeout=10000)
    flash = page.locator("#flash")
    assert "rock present for clip0.wav" in flash.text_content()
    assert "lapsed" in flash.text_content()
    assert flash.get_attribute("role") == "alert"
    # Red on a tinted box, unlike the grey line that confirms a saved answer.
    assert flash.evaluate("(box) => getComputedStyle(box).color") == "rgb(179, 38, 30)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-refused-answer.png"))
    assert not Review.objects.filter(item=items[0]).exists()


def test_the_empty_queue_shows_a_running_audit_and_refreshes_itself(
    browser,
    live_server,
    tmp_path: Path,
    settings,
) -> None:
    settings.REVIEW_EMPTY_POLL_SECONDS = 1
    items = make_review_queue(tmp_path / "audio", 1, seconds=2.0)
    ReviewItem.objects.filter(pk=items[0].pk).update(status=ReviewItem.Status.SUPERSEDED)
    AuditRun.objects.create(
        dataset=items[0].dataset,
        kind=AuditRun.Kind.AUDIT,
        status=AuditRun.Status.RUNNING,
        stage="training",
        progress=0.4,
        started_at=timezone.now() - timedelta(seconds=60),
    )
    page = signed_in_page(browser, live_server)
    page.wait_for_selector("#empty-state", state="visible")
    bar = page.wait_for_selector("#outlook [role=progressbar]", timeout=10000)
    assert bar.get_attribute("aria-valuenow") == "40"
    assert "An audit of queue is running (training): 40%" in page.text_content("#outlook")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-empty-audit-running.png"))

    # The audit finishes and fills the queue: the question appears without a reload or a click.
    AuditRun.objects.update(status=AuditRun.Status.SUCCEEDED, progress=1.0)
    ReviewItem.objects.filter(pk=items[0].pk).update(status=ReviewItem.Status.OPEN)
    wait_for_clip(page, "clip0.wav")
    # ...and a screen reader hears that a question arrived.
    assert page.text_content("#announce") == "New question: is rock present in clip0.wav?"


def test_a_key_jumps_to_where_the_model_hears_the_tag(browser, live_server, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 1, seconds=8.0)
    item = items[0]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # Four half-overlapping 4 s windows; the model hears rock most in the one starting at 4 s.
    np.savez_compressed(run_dir / "scores.npz", clip_ids=np.array([item.clip_id]), tag_ids=np.array([item.tag_id]))
    strength = np.array([[0.1], [0.2], [0.8], [0.4]])
    save_windows(
        run_dir, [item.clip_id], [strength], [np.array([0, 2, 4, 6]) * 10], frames_per_second=10, window_frames=40
    )
    run = AuditRun.objects.create(dataset=item.dataset, kind="audit", status="succeeded", run_dir=str(run_dir))
    ReviewItem.objects.filter(pk=item.pk).update(run=run)

    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "clip0.wav")
    page.wait_for_selector("#where", state="visible")
    assert page.locator("#where-strip span").count() == 4
    page.keyboard.press("Space")  # pause, so the jump is measured where it lands
    page.keyboard.press("w")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 4) < 0.5", timeout=10000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page-where-in-clip.png"))


def test_c_writes_a_note_that_goes_with_the_next_answer(browser, live_server, tmp_path: Path) -> None:
    items = make_review_queue(tmp_path / "audio", 2, seconds=2.0)
    page = signed_in_page(browser, live_server)
    wait_for_clip(page, "clip0.wav")
    page.keyboard.press("c")
    page.wait_for_selector("#note", state="visible")
    page.keyboard.type("only a hint of rock, 1 s in")  # typing in the note answers nothing
    assert "rock in clip0.wav" in page.text_content("#note-for")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    wait_for_clip(page, "clip1.wav")
    wait_until(lambda: Review.objects.filter(item=items[0]).exists())
    assert Review.objects.get(item=items[0]).decision == "absent"
    assert list(ItemNote.objects.values_list("item_id", "text")) == [(items[0].pk, "only a hint of rock, 1 s in")]
    assert page.is_hidden("#note-box") and page.input_value("#note") == ""
