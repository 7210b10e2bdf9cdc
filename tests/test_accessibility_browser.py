"""The admin's health, tag priorities and compare pages in a real browser (headless Chromium): no serious or
critical axe-core finding, and the health table fits a 1400×900 screen and stays readable on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP, create_or_reset_user
from auditor.datasets.models import Clip, Dataset, Tag
from auditor.queue.models import ItemNote, Review, ReviewItem
from auditor.runs.models import AuditRun, ModelVersion
from tests.browser import ARTIFACTS, DESKTOP, PHONE, log_in, needs_chromium
from tests.conftest import make_review_queue

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the live server answers from its own thread and connection
    needs_chromium,
]
BLOCKING = ("serious", "critical")  # axe's impacts that fail the test; "moderate" and "minor" are left to judgement


def calibrate(dataset: Dataset, tag: Tag, answerers: tuple, *, complete: bool = True) -> None:
    """A calibration design of three strata for `tag`, answered by the first annotator (the second is unsure of a
    few items). Incomplete: the top band of the given negatives has no answers yet, so the tag has no rates."""
    strata = [("given", 100, True, [k < 9 for k in range(10)])]
    strata += [("band0", 900, False, [k < 2 for k in range(10)]), ("band1", 300, False, [k < 3 for k in range(4)])]
    annotator, unsure = answerers
    for stratum, size, given, answers in strata:
        for k, present in enumerate(answers):
            clip, _ = Clip.objects.get_or_create(dataset=dataset, path=f"{stratum}-{k}.wav")
            answered = complete or stratum != "band1"
            item = ReviewItem.objects.create(
                dataset=dataset,
                clip=clip,
                tag=tag,
                kind="calibration",
                given=given,
                stratum=stratum,
                stratum_size=size,
                status="resolved" if answered else "open",
                resolution=present if answered else None,
            )
            if answered:
                Review.objects.create(item=item, user=annotator, decision="present" if present else "absent")
            if k == 0:
                Review.objects.create(item=item, user=unsure, decision="unsure")


def health_dataset(root: Path) -> Dataset:
    """Five tags in the states the health page must explain: rates known (rock), rates waiting on answers (piano),
    a model worse than chance (a long-named tag), no calibration sample (jazz), and a tag newer than the model."""
    dataset = Dataset.objects.create(name="music", audio_root=str(root))
    names = ["rock", "piano", "electronic dance music", "jazz", "spoken word"]
    tags = {name: Tag.objects.create(dataset=dataset, name=name, weight=1.0 + n / 2) for n, name in enumerate(names)}
    answerers = (
        create_or_reset_user("ann", role=ANNOTATOR_GROUP)[0],
        create_or_reset_user("ben", role=ANNOTATOR_GROUP)[0],
    )
    calibrate(dataset, tags["rock"], answerers)
    calibrate(dataset, tags["electronic dance music"], answerers)
    calibrate(dataset, tags["piano"], answerers, complete=False)
    before = {
        "rock": {"roc_auc_given": 0.80, "roc_auc_verified": 0.90},
        "piano": {"roc_auc_given": 0.70, "roc_auc_verified": 0.80},
        "electronic dance music": {"roc_auc_given": 0.55},
        "jazz": {"roc_auc_given": 0.66},
    }
    now = {
        "rock": {
            "roc_auc_given": 0.85,
            "roc_auc_verified": 0.85,
            "pr_auc_given": 0.5,
            "pr_auc_verified": 0.55,
            "noise_estimate": 0.1,
        },
        "piano": {"roc_auc_given": 0.75, "roc_auc_verified": 0.81, "pr_auc_given": 0.4, "pr_auc_verified": 0.6},
        "electronic dance music": {"roc_auc_given": 0.42, "pr_auc_given": 0.08, "noise_estimate": 0.31},
        "jazz": {"roc_auc_given": 0.9, "pr_auc_given": 0.7, "noise_estimate": 0.02, "rate_source": "model"},
    }
    for number, tags_figures in ((1, before), (2, now)):
        ModelVersion.objects.create(
            dataset=dataset,
            number=number,
            active=number == 2,
            artifact_path="/nowhere",
            metrics={"tags": tags_figures},
            macro_auc_given=0.7,
        )
    return dataset


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page, each with the elements it names."""
    from axe_playwright_python.sync_playwright import Axe

    found = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {', '.join(node['target'])}: {node['html'][:200]}" for node in v["nodes"])
        for v in found
    ]


def widths(page, selector: str) -> dict[str, int]:
    return page.evaluate(
        """(selector) => {
            const table = document.querySelector(selector);
            const main = document.querySelector('main');
            return {table: table.scrollWidth, box: table.parentElement.clientWidth,
                    page: document.documentElement.scrollWidth, window: window.innerWidth,
                    content: main.scrollWidth, column: main.clientWidth};
        }""",
        selector,
    )


def test_the_health_page_passes_axe_fits_the_screen_and_explains_every_gap(browser, live_server, tmp_path) -> None:
    health_dataset(tmp_path)
    _, password = create_or_reset_user("ada", role=ADMIN_GROUP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server.url, "ada", password, viewport=DESKTOP)
    page.goto(f"{live_server.url}/datasets/music/health/?sort=-auc_given")
    assert page.locator("table.health tbody tr").count() == 5
    page.screenshot(path=str(ARTIFACTS / "health-page-1400.png"), full_page=True)

    problems = serious_violations(page)
    assert not problems, "axe-core found:\n" + "\n".join(problems)
    size = widths(page, "table.health")
    assert size["table"] <= size["box"], f"the health table overflows its box at 1400×900: {size}"
    assert size["page"] <= size["window"], f"the page scrolls sideways at 1400×900: {size}"
    assert page.get_attribute("th[aria-sort]", "aria-sort") == "descending"
    assert "ROC-AUC" in page.text_content("th[aria-sort]")

    # Every cell says something: a figure, or in words why there is none. Only a row without marks may be blank.
    blank = page.evaluate(
        """() => [...document.querySelectorAll('table.health tbody td:not(.marks)')]
            .filter(td => ['', '–', '-'].includes(td.textContent.trim()))
            .map(td => td.closest('tr').querySelector('th').textContent + ': ' + td.outerHTML)"""
    )
    assert not blank, blank
    worse = page.locator("table.health tr", has=page.locator("th:text-is('electronic dance music')"))
    assert "worse than chance" in worse.text_content()
    piano = page.locator("table.health tr", has=page.locator("th:text-is('piano')")).text_content()
    assert "not yet: " in piano and "given − (band 1)" in piano
    spoken = page.locator("table.health tr", has=page.locator("th:text-is('spoken word')")).text_content()
    assert "not in v2" in spoken and "no calibration reviews yet" in spoken

    phone = log_in(browser, live_server.url, "ada", password, viewport=PHONE)
    phone.goto(f"{live_server.url}/datasets/music/health/")
    phone.screenshot(path=str(ARTIFACTS / "health-page-390.png"), full_page=True)
    assert not serious_violations(phone)
    size = widths(phone, "table.health")
    # The page's own content stays in the screen: only the table's box scrolls sideways. (The top bar is shared by
    # every page and judged elsewhere.)
    assert size["content"] <= size["column"], f"the health page's content is wider than a phone: {size}"
    # Scrolled to its last column, the table still shows each row's tag at the left edge of its box.
    phone.evaluate("document.querySelector('table.health').parentElement.scrollLeft = 10000")
    edges = phone.evaluate(
        """() => {
            const box = document.querySelector('table.health').parentElement.getBoundingClientRect();
            const tag = document.querySelector('table.health tbody th').getBoundingClientRect();
            return {box: box.left, tag: tag.left, width: tag.width};
        }"""
    )
    assert abs(edges["tag"] - edges["box"]) <= 2 and edges["width"] >= 60, edges
    phone.screenshot(path=str(ARTIFACTS / "health-page-390-scrolled.png"))


def test_the_tags_and_compare_pages_pass_axe_and_name_every_input(browser, live_server, tmp_path) -> None:
    health_dataset(tmp_path)
    _, password = create_or_reset_user("ada", role=ADMIN_GROUP)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server.url, "ada", password, viewport=DESKTOP)
    page.goto(f"{live_server.url}/datasets/music/tags/")
    page.screenshot(path=str(ARTIFACTS / "tags-page-1400.png"), full_page=True)
    problems = serious_violations(page)
    assert not problems, "axe-core found:\n" + "\n".join(problems)
    assert page.get_by_label("Weight of rock", exact=True).input_value() == "1.0"
    page.get_by_label("Weight of jazz", exact=True).fill("7")
    page.click("text=Save and re-order the queue")
    assert "Saved" in page.text_content(".message")
    assert Tag.objects.get(name="jazz").weight == 7.0
    size = widths(page, "table.tags-form")
    assert size["table"] <= size["box"], f"the tags table overflows its box at 1400×900: {size}"

    page.goto(f"{live_server.url}/datasets/music/models/compare?a=1&b=2")
    page.screenshot(path=str(ARTIFACTS / "compare-page-1400.png"), full_page=True)
    problems = serious_violations(page)
    assert not problems, "axe-core found:\n" + "\n".join(problems)

    phone = log_in(browser, live_server.url, "ada", password, viewport=PHONE)
    phone.goto(f"{live_server.url}/datasets/music/tags/")
    phone.screenshot(path=str(ARTIFACTS / "tags-page-390.png"), full_page=True)
    assert not serious_violations(phone)
    size = widths(phone, "table.tags-form")
    assert size["content"] <= size["column"], f"the tags page's content is wider than a phone: {size}"


def no_sideways_scroll(page) -> dict:
    """The page's width against the window's, and the elements that reach past the window's right edge."""
    return page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,
                  past_the_edge: [...document.querySelectorAll('body *')]
                      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                      .filter(e => !e.closest('.scroll'))
                      .slice(0, 5).map(e => e.outerHTML.slice(0, 120))})"""
    )


def test_every_page_passes_axe_and_fits_a_desktop_and_a_phone(browser, live_server, tmp_path) -> None:
    """Each page a person opens, as its user sees it, at 1400×900 and 390×844: screenshots for a person to look at,
    no serious or critical axe-core finding, and no page that scrolls sideways (wide tables scroll in their box)."""
    dataset = health_dataset(tmp_path / "music")
    run = AuditRun.objects.create(dataset=dataset, kind="audit", status="failed", error="the worker was lost")
    queue = make_review_queue(tmp_path / "audio", 3, seconds=4.0)
    annotator_name, admin_name = "ann", "ada"  # ann answered the health dataset's calibration items
    _, annotator_password = create_or_reset_user(annotator_name, role=ANNOTATOR_GROUP)
    _, admin_password = create_or_reset_user(admin_name, role=ADMIN_GROUP)
    answer = Review.objects.filter(item__dataset=dataset, decision="present").select_related("item", "user").first()
    ItemNote.objects.create(item=answer.item, user=answer.user, review=answer, text="The guitar comes in at 0:20.")
    pages = {
        admin_name: (
            admin_password,
            {
                "datasets": "/",
                "dataset": "/datasets/music/",
                "runs": "/datasets/music/runs/",
                "run": f"/runs/{run.pk}/",
                "versions": "/datasets/music/models/",
                "annotators": "/datasets/music/annotators/",
                "disputed": "/datasets/music/disputed/",
                "label-history": "/datasets/music/history/",
                "queue-browser": "/datasets/music/items/?status=any",
                "queue-item": f"/datasets/music/items/{answer.item.pk}/",
                "api-docs": "/api/docs",
                "not-found": "/datasets/nothing-here/",
            },
        ),
        annotator_name: (
            annotator_password,
            {"review": "/review/", "my-reviews": "/review/history/", "forbidden": "/datasets/music/"},
        ),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for size_name, viewport in (("1400", DESKTOP), ("390", PHONE)):
        for user, (password, urls) in pages.items():
            page = log_in(browser, live_server.url, user, password, viewport=viewport)
            for name, url in urls.items():
                page.goto(f"{live_server.url}{url}")
                if name == "review":
                    page.wait_for_function(f"document.body.textContent.includes('{queue[0].clip.path}')")
                page.screenshot(path=str(ARTIFACTS / f"{name}-page-{size_name}.png"), full_page=True)
                if name != "api-docs":  # Swagger UI's own markup is not ours to fix
                    problems += [f"{name} at {size_name}: {found}" for found in serious_violations(page)]
                width = no_sideways_scroll(page)
                if width["page"] > width["window"]:
                    problems.append(f"{name} at {size_name} scrolls sideways: {width}")
            page.context.close()
    assert not problems, "\n".join(problems)
