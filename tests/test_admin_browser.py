"""An admin's first hour, in a real browser (headless Chromium) against real Celery workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP, create_or_reset_user
from auditor.queue.models import ReviewItem
from auditor.runs.models import AuditRun
from tests.browser import ARTIFACTS, log_in, needs_chromium
from tests.workers import Worker, require_redis
from worker.celery import app

pytestmark = [
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


@pytest.fixture
def workers() -> Iterator[None]:
    require_redis(settings.REDIS_URL)
    with app.connection_for_write() as conn:  # no message left over from an earlier test
        conn.default_channel.client.delete("gpu", "default")
    started = [Worker(queues="gpu"), Worker(queues="default")]
    yield
    for worker in started:
        worker.stop()
    connection.close()


def test_an_admin_imports_audits_reprioritises_checks_health_and_exports(
    browser, live_server, workers, small_corpus: Path, settings
) -> None:
    settings.IMPORT_ROOTS = [small_corpus]  # the audio folder the form names
    _, password = create_or_reset_user("ada", role=ADMIN_GROUP)
    _, annotator_password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    page = log_in(browser, live_server.url, "ada", password)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # Import: upload the labels file, point at the audio folder on the server.
    page.fill("input[name=name]", "demo")
    page.fill("input[name=audio_root]", str(small_corpus / "audio"))
    page.set_input_files("input[name=labels_upload]", str(small_corpus / "labels.csv"))
    page.click("#import button[type=submit]")
    page.wait_for_url(f"{live_server.url}/datasets/demo/")
    assert "Imported 40 rows into demo" in page.text_content(".message")

    # Audit: start it from the runs page and watch the bar until the run is done.
    page.click("a.button:text-is('Runs')")
    page.fill("input[name=folds]", "2")
    page.fill("input[name=epochs]", "2")
    page.click("button:text-is('Start')")
    page.wait_for_selector(".run-progress .status", timeout=10_000)
    page.wait_for_function(
        "document.querySelector('.run-progress .status').textContent === 'succeeded'", timeout=240_000
    )
    assert page.text_content(".run-progress .percent").strip() == "100%"
    assert "v1 (active)" in page.text_content("table.narrow-table")
    page.screenshot(path=str(ARTIFACTS / "admin-run-page.png"), full_page=True)
    assert AuditRun.objects.get().status == "succeeded"

    # Priorities: the tag with the least suspicious top item, weighted up, comes first in the queue.
    open_items = ReviewItem.objects.filter(status="open", kind="flagged").select_related("tag")
    tag = min(
        {item.tag.name for item in open_items}, key=lambda name: max(i.score for i in open_items if i.tag.name == name)
    )
    page.goto(f"{live_server.url}/datasets/demo/tags/")
    row = page.locator("table.tags-form tr", has=page.locator(f"strong:text-is('{tag}')"))
    row.locator("input[name$='-weight']").fill("1000")
    page.click("text=Save and re-order the queue")
    assert "open review items re-ordered" in page.text_content(".message")
    flagged_first = ReviewItem.objects.filter(status="open", kind="flagged").order_by("-priority", "id").first()
    assert flagged_first.tag.name == tag
    # The annotator gets the queue's first question: the calibration warm-up (what each tag needs for its rates)
    # comes before flagged items, whatever their weight.
    first = ReviewItem.objects.filter(status="open").order_by("-priority", "id").select_related("tag").first()
    annotator = log_in(browser, live_server.url, "ann", annotator_password)
    # Whole-clip mode: the first question's clip, with that question among its rows.
    clip_shown = f"document.getElementById('clip-path').textContent.endsWith({json.dumps(first.clip.path)})"
    annotator.wait_for_function(clip_shown)
    asked = annotator.locator("#clip-rows li strong").all_text_contents() or [annotator.text_content("#tag-name")]
    assert first.tag.name in asked

    # Per-tag health: one row per tag, and the plot of AUC against tagability.
    page.goto(f"{live_server.url}/datasets/demo/health/")
    assert page.locator("table.health tbody tr").count() == 16
    assert page.locator("svg.chart").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "admin-health-page.png"), full_page=True)

    # Export: the corrected labels download as csv.
    page.goto(f"{live_server.url}/datasets/demo/")
    with page.expect_download() as download:
        page.click("text=Export corrected labels (csv)")
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("path,") and len(text.splitlines()) == 41
