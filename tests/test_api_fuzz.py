"""Schema-driven fuzzing of the review API: Schemathesis reads the OpenAPI document the site serves and sends
requests that fit it and requests that break it — its examples, its boundary-value coverage phase and random
fuzzing — as a signed-in annotator, to a live server. No answer may be a server error, and every answer must
have the documented content type (errors included: JSON). Bounded to about a minute."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from auditor.accounts.roles import ANNOTATOR_GROUP, create_or_reset_user
from auditor.queue.claims import claim_next
from tests.conftest import make_review_queue

BUDGET_SECONDS = 60


def signed_in(base_url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base_url}/login/")
    response = session.post(
        f"{base_url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_fuzzing_the_review_api_finds_no_server_error(live_server, tmp_path: Path) -> None:
    make_review_queue(tmp_path / "audio", 30, required=2)
    user, password = create_or_reset_user("fuzzy", role=ANNOTATOR_GROUP)
    claim_next(user)  # an item in the fuzzer's hands, so item paths also reach the real code now and then
    session = signed_in(live_server.url, "fuzzy", password)
    cookies = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_server.url}/api/schema.json",
        "--checks",
        "not_a_server_error,content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--max-time",
        str(BUDGET_SECONDS),
        "--max-examples",
        "100",
        "--seed",
        "11",
        "--no-shrink",
        "--workers",
        "1",
        "--header",
        f"Cookie: {cookies}",
        "--header",
        f"X-CSRFToken: {session.cookies['csrftoken']}",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_SECONDS * 4, env=env, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "passed" in output.lower()
