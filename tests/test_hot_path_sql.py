"""The review path's hand-written SQL (auditor.rawsql) and the one-statement user loading behave like the ORM and
Django's own backend they replace, on whichever database the tests run against; sessions come from the cache."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from auditor import rawsql
from auditor.accounts.backends import UserWithRolesBackend
from auditor.accounts.roles import ADMIN_GROUP, ANNOTATOR_GROUP, create_or_reset_user, is_admin, is_annotator
from auditor.datasets.models import Clip, Dataset, Tag
from auditor.labels.changes import Decided, set_verified_label
from auditor.labels.models import Label, LabelChange
from auditor.queue.claims import claim_next
from auditor.queue.models import ReviewItem
from tests.conftest import make_review_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair() -> tuple[Dataset, Clip, Tag]:
    dataset = Dataset.objects.create(name="d", audio_root="/nonexistent")
    clip = Clip.objects.create(dataset=dataset, path="a.wav", duration=1.5, readable=False, unreadable_reason="gone")
    return dataset, clip, Tag.objects.create(dataset=dataset, name="rock", description="Loud guitars")


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_rows_read_by_hand_equal_what_the_orm_reads(pair) -> None:
    dataset, clip, tag = pair
    item = ReviewItem.objects.create(
        dataset=dataset,
        clip=clip,
        tag=tag,
        kind="flagged",
        given=True,
        probability=None,
        score=0.25,
        resolution=False,
        resolved_at=timezone.now(),
    )
    for model, pk in ((ReviewItem, item.pk), (Clip, clip.pk), (Dataset, dataset.pk), (Tag, tag.pk)):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {rawsql.columns(model, 'x')} FROM {rawsql.table(model)} x WHERE x.id = %s", [pk])
            by_hand = rawsql.from_row(model, cursor.fetchone())
        assert field_values(by_hand) == field_values(model.objects.get(pk=pk))
        assert not by_hand._state.adding  # an instance of a stored row: save() updates it


def test_insert_and_update_write_what_the_orm_reads_back(pair) -> None:
    dataset, clip, tag = pair
    now = timezone.now()
    with connection.cursor() as cursor:
        label = rawsql.insert(
            cursor, Label, dataset_id=dataset.pk, clip_id=clip.pk, tag_id=tag.pk, present=True, updated_at=now
        )
        assert field_values(Label.objects.get(pk=label.pk)) == field_values(label) | {"verified": False}
        label.present, label.verified = False, True
        rawsql.update(cursor, label, ["present", "verified"])
        with pytest.raises(TypeError, match="present: no value"):
            rawsql.insert(cursor, Label, dataset_id=dataset.pk, clip_id=clip.pk, tag_id=tag.pk)
    stored = Label.objects.get(pk=label.pk)
    assert (stored.present, stored.verified, stored.updated_at) == (False, True, now)


def test_a_verified_label_keeps_totals_and_history_in_step(pair) -> None:
    dataset, clip, tag = pair
    reviewer = User.objects.create_user("ann")
    confirmed = set_verified_label(dataset.pk, clip.pk, tag.pk, False, source="review", user=reviewer)
    assert confirmed == Decided(before=False, was_verified=False, change=None)
    decided = set_verified_label(dataset.pk, clip.pk, tag.pk, True, source="review", user=reviewer, review_id=7)
    change = decided.change
    assert (decided.before, decided.was_verified) == (False, True)
    assert change == LabelChange.objects.get()
    assert (change.before, change.after, change.user_id, change.review_id) == (False, True, reviewer.pk, 7)
    tag.refresh_from_db()
    assert (tag.positive_labels, tag.verified_labels) == (1, 1)  # a negative confirmed, then turned positive
    assert Label.objects.filter(present=True, verified=True).count() == 1


def test_the_user_comes_with_their_roles_in_one_statement() -> None:
    ann, _ = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    both, _ = create_or_reset_user("boss", role=ADMIN_GROUP)
    both.groups.add(Group.objects.get(name=ANNOTATOR_GROUP))
    nobody = User.objects.create_user("nobody")
    backend = UserWithRolesBackend()
    with CaptureQueriesContext(connection) as queries:
        loaded = backend.get_user(ann.pk)
        assert is_annotator(loaded) and not is_admin(loaded)
    assert len(queries) == 1
    assert backend.get_user(both.pk)._role_group_names == {ADMIN_GROUP, ANNOTATOR_GROUP}
    assert not is_annotator(backend.get_user(nobody.pk))
    assert backend.get_user(10_000) is None
    nobody.is_active = False
    nobody.save()
    assert backend.get_user(nobody.pk) is None  # as ModelBackend: inactive users are not logged in


def test_a_role_taken_away_counts_from_the_next_request() -> None:
    ann, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    client = Client()
    assert client.login(request=HttpRequest(), username="ann", password=password)
    assert client.get("/api/review/tally").status_code == 200
    ann.groups.clear()
    assert client.get("/api/review/tally").status_code == 403


def test_an_expired_session_logs_the_person_out() -> None:
    _, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    client = Client()
    assert client.login(request=HttpRequest(), username="ann", password=password)
    assert client.get("/api/review/tally").status_code == 200
    store = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    store.set_expiry(timezone.now() - timedelta(seconds=1))
    store.save()
    assert client.get("/api/review/tally").status_code == 401


def test_sessions_are_read_from_the_cache_and_survive_its_restart() -> None:
    _, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    client = Client()
    assert client.login(request=HttpRequest(), username="ann", password=password)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/review/tally").status_code == 200
    assert not [q for q in queries if Session._meta.db_table in q["sql"]]  # no database read for the session
    cache.clear()  # a restarted Redis
    assert client.get("/api/review/tally").status_code == 200  # read back from the database
    assert Session.objects.count() == 1


def test_a_claimed_item_comes_loaded_with_its_question(pair) -> None:
    dataset, clip, tag = pair
    ReviewItem.objects.create(dataset=dataset, clip=clip, tag=tag, kind="flagged", given=False, priority=1.0)
    ann = User.objects.create_user("ann")
    item = claim_next(ann)
    with CaptureQueriesContext(connection) as queries:
        shown = (
            item.dataset.name,
            item.dataset.reveal_label,
            item.clip.path,
            item.clip.duration,
            item.tag.name,
            item.tag.description,
            item.clip.dataset.audio_root,
        )
    assert shown == ("d", "after_listen", "a.wav", 1.5, "rock", "Loud guitars", "/nonexistent")
    assert len(queries) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="per-table autovacuum settings are PostgreSQL's")
def test_the_queue_tables_are_vacuumed_early() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN ('queue_reviewitem', 'queue_lease')")
        options = dict(cursor.fetchall())
    assert all("autovacuum_vacuum_scale_factor=0" in (options[table] or []) for table in options) and len(options) == 2


def test_an_answer_with_the_next_question_costs_a_pinned_number_of_statements(tmp_path) -> None:
    """The review path's statement budget (docs/benchmarks.md): a change that adds one shows up here."""
    items = make_review_queue(tmp_path / "audio", 3)
    ann, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    client = Client()
    assert client.login(request=HttpRequest(), username="ann", password=password)
    first = client.post("/api/review/claim", "{}", content_type="application/json").json()["item"]
    assert first["id"] == items[0].pk
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(
            f"/api/review/items/{first['id']}/submit",
            '{"decision": "present", "next": true}',
            content_type="application/json",
        )
    assert answer.status_code == 200 and answer.json()["next"]["id"] == items[1].pk
    statements = [q["sql"] for q in queries if q["sql"].split()[0].upper() not in ("SAVEPOINT", "RELEASE")]
    assert len(statements) == 10, "\n".join(statements)  # and a BEGIN and a COMMIT for each of the two steps


def test_an_unreachable_cache_slows_requests_but_fails_none() -> None:
    _, password = create_or_reset_user("ann", role=ANNOTATOR_GROUP)
    dead = {
        "BACKEND": "auditor.cache.FailOpenRedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    with override_settings(CACHES={"default": dead}):
        client = Client()
        assert client.login(request=HttpRequest(), username="ann", password=password)
        assert client.get("/api/review/tally").status_code == 200  # the session read back from the database
        client.logout()
        assert client.get("/api/review/tally").status_code == 401
