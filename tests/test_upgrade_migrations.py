"""A database made before the apps were split (labels, queue and runs out of `datasets` and `audits`) upgrades in
place: every row, link and permission is still there, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE_THE_SPLIT = [("audits", "0006_queue_tables_autovacuum"), ("datasets", "0007_tag_in_focus_index")]


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rows_links_and_permissions_made_before_the_split_survive_the_upgrade() -> None:
    try:
        _check_the_upgrade()
    finally:  # the other tests need the schema as it is now, whatever happened here
        migrate(latest())


def _check_the_upgrade() -> None:
    old = migrate(BEFORE_THE_SPLIT)
    # The auth and contenttypes tables are not part of the move: their current models are used as they are.
    Dataset = old.get_model("datasets", "Dataset")
    Tag = old.get_model("datasets", "Tag")
    Clip = old.get_model("datasets", "Clip")
    user = User.objects.create(username="ann")
    dataset = Dataset.objects.create(name="old", audio_root="/tmp")
    tag = Tag.objects.create(dataset=dataset, name="drums", positive_labels=1)
    clip = Clip.objects.create(dataset=dataset, path="a.wav")
    old.get_model("datasets", "Label").objects.create(dataset=dataset, clip=clip, tag=tag, present=True)
    old.get_model("datasets", "LabelChange").objects.create(
        dataset=dataset, clip=clip, tag=tag, before=False, after=True, source="admin"
    )
    run = old.get_model("audits", "AuditRun").objects.create(dataset=dataset, kind="audit", status="succeeded")
    old.get_model("audits", "ModelVersion").objects.create(
        dataset=dataset, run=run, number=1, artifact_path="/runs/1", active=True
    )
    item = old.get_model("audits", "ReviewItem").objects.create(
        dataset=dataset, clip=clip, tag=tag, run=run, kind="flagged", given=True, score=0.9, priority=0.9
    )
    old.get_model("audits", "Review").objects.create(item=item, user_id=user.pk, decision="absent")
    old.get_model("audits", "Lease").objects.create(item=item, user_id=user.pk, expires_at=timezone.now())
    # A permission given on a moved model, as an admin might have in the Django admin.
    content_type, _ = ContentType.objects.get_or_create(app_label="audits", model="reviewitem")
    permission = Permission.objects.create(content_type=content_type, codename="look_at_items", name="Look")
    Group.objects.create(name="checkers").permissions.add(permission)

    new = migrate(latest())

    item = new.get_model("queue", "ReviewItem").objects.get()
    assert (item.run.kind, item.clip.path, item.tag.name) == ("audit", "a.wav", "drums")
    assert [r.decision for r in item.reviews.all()] == ["absent"] and item.leases.count() == 1
    assert new.get_model("runs", "ModelVersion").objects.get().run_id == item.run_id
    assert new.get_model("labels", "Label").objects.get().present
    assert new.get_model("labels", "LabelChange").objects.get().after
    kept = Group.objects.get(name="checkers").permissions.get()
    assert (kept.content_type.app_label, kept.content_type.model) == ("queue", "reviewitem")
    # The renamed tables still number new rows, and their constraints still hold.
    made = new.get_model("queue", "ReviewItem").objects.create(
        dataset_id=item.dataset_id,
        clip_id=item.clip_id,
        tag_id=item.tag_id,
        kind="flagged",
        given=False,
        status="resolved",
    )
    assert made.pk > item.pk
    with pytest.raises(IntegrityError), transaction.atomic():  # a second open item for the same pair
        new.get_model("queue", "ReviewItem").objects.create(
            dataset_id=item.dataset_id, clip_id=item.clip_id, tag_id=item.tag_id, kind="flagged", given=False
        )
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    assert {"queue_reviewitem", "queue_review", "queue_lease", "runs_auditrun", "labels_label"} <= tables
    assert not {"audits_reviewitem", "datasets_label"} & tables
