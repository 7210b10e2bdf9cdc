"""Import a labels file into a dataset: validate everything first, then write in one transaction.

The first import of a clip stores its given labels; a later import of a changed file applies only
the differences, each as a `LabelChange` row. Pairs a person has verified are never overwritten.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from auditor.accounts.roles import recorded_user
from auditor.datasets.formats import LabelFileError, LabelRow, ParsedLabels, read_labels
from auditor.datasets.models import Clip, Dataset, ImportBatch, Tag, dataset_name_validator
from auditor.labels.counts import recount_tags
from auditor.labels.models import Label, LabelChange
from tagging.audio import AudioInfo, probe_many

log = logging.getLogger(__name__)

BULK_BATCH = 5000
MAX_LISTED_UNREADABLE = 50


class ImportFailed(ValueError):
    """The import was refused; nothing was written. The message says what to fix."""


@dataclass
class ImportReport:
    dataset: str
    rows: int
    created_dataset: bool = False
    clips_added: int = 0
    tags_added: int = 0
    labels_added: int = 0
    labels_removed: int = 0
    verified_kept: int = 0  # differences on pairs a person verified, left as the person decided
    clips_not_in_file: int = 0
    became_readable: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) skipped this time
    notices: list[str] = field(default_factory=list)
    batch_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.batch_id is not None

    def summary(self) -> str:
        if not self.changed:
            lines = [f"{self.dataset}: no changes ({self.rows} rows already imported)."]
        else:
            verb = "created" if self.created_dataset else "updated"
            lines = [
                f"{self.dataset}: {verb} from {self.rows} rows — {self.clips_added} clips added, "
                f"{self.tags_added} tags added, {self.labels_added} labels added, "
                f"{self.labels_removed} labels removed."
            ]
        if self.verified_kept:
            lines.append(f"{self.verified_kept} differences on human-verified labels were kept as verified.")
        if self.clips_not_in_file:
            lines.append(f"{self.clips_not_in_file} clips of the dataset are not in this file; they were kept.")
        if self.became_readable:
            lines.append(f"{self.became_readable} clips that were unreadable now decode and are usable.")
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} unreadable clips recorded and left out of training:")
            lines += [f"  {path}: {reason}" for path, reason in self.unreadable[:MAX_LISTED_UNREADABLE]]
            if len(self.unreadable) > MAX_LISTED_UNREADABLE:
                lines.append(f"  … and {len(self.unreadable) - MAX_LISTED_UNREADABLE} more")
        lines += self.notices
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _alternative_audio_path(audio_root: Path, path: str, file_format: str) -> str:
    """MTG-Jamendo's low-quality download names files NNN.low.mp3 where the TSV says NNN.mp3."""
    if file_format == "jamendo" and path.endswith(".mp3") and not (audio_root / path).exists():
        low = path[: -len(".mp3")] + ".low.mp3"
        if (audio_root / low).exists():
            return low
    return path


def import_dataset(
    name: str,
    *,
    audio_root: str | Path,
    labels_file: str | Path,
    file_format: str = "csv",
    skip_unreadable: bool = False,
    tag_descriptions: dict[str, str] | None = None,
    user: User | None = None,
    progress: Callable[[str], None] | None = None,
    show_content: bool = True,
    labels_name: str | None = None,
) -> ImportReport:
    """Validate `labels_file` and its audio, then create or update dataset `name` in one transaction.

    Raises `ImportFailed` (or its subclass-like `LabelFileError` message) with every problem found;
    in that case nothing was written. `show_content` False (a server file the person did not upload) keeps the
    file's content out of the messages: lines are named, not the values on them. `labels_name` is what the
    import history records as the file (default: its resolved path).
    """
    say = progress or (lambda message: None)
    try:
        dataset_name_validator(name)
    except ValidationError as exc:
        raise ImportFailed(f"dataset name {name!r}: {exc.messages[0]}") from None
    root = Path(audio_root).expanduser().resolve()
    if not root.is_dir():
        raise ImportFailed(f"audio root {str(audio_root)!r} is not a folder")
    labels_path = Path(labels_file)
    try:
        parsed = read_labels(
            labels_path, file_format, show_content=show_content, max_field_chars=settings.IMPORT_MAX_FIELD_CHARS
        )
    except LabelFileError as exc:
        raise ImportFailed(str(exc)) from None
    say(f"read {len(parsed.rows)} rows and {len(parsed.tags)} tags from {labels_path.name}")

    existing = Dataset.objects.filter(name=name).first()
    if existing is not None and Path(existing.audio_root) != root:
        raise ImportFailed(
            f"dataset {name!r} has its audio under {existing.audio_root}, not {root}; "
            "import into a new dataset or use the same --audio-root"
        )
    for row in parsed.rows:
        row.path = _alternative_audio_path(root, row.path, file_format)

    known = _known_clips(existing)
    to_probe = [row for row in parsed.rows if row.path not in known or not known[row.path][1]]
    _refuse_links_out_of_root(root, to_probe, labels_path.name, show_content)
    say(f"probing {len(to_probe)} audio files")
    infos = probe_many(
        [root / row.path for row in to_probe],
        workers=settings.IMPORT_PROBE_WORKERS,
        max_seconds=settings.MAX_CLIP_SECONDS,
    )
    probes = {row.path: info for row, info in zip(to_probe, infos, strict=True)}
    line_of = {row.path: row.line for row in to_probe}
    new_unreadable = [(p, info.error) for p, info in probes.items() if not info.readable and p not in known]
    if new_unreadable and not skip_unreadable:
        listed = "\n".join(
            f"  {path if show_content else f'line {line_of[path]}'}: {reason}"
            for path, reason in new_unreadable[:MAX_LISTED_UNREADABLE]
        )
        more = len(new_unreadable) - MAX_LISTED_UNREADABLE
        raise ImportFailed(
            f"{labels_path.name}: {len(new_unreadable)} audio files are missing or cannot be decoded, "
            f"nothing was imported:\n{listed}"
            + (f"\n  … and {more} more" if more > 0 else "")
            + "\nFix them, or pass --skip-unreadable to import the rest and record why each was skipped."
        )

    report = ImportReport(dataset=name, rows=len(parsed.rows), notices=list(parsed.notices))
    report.unreadable = new_unreadable
    descriptions = {**parsed.tag_descriptions, **(tag_descriptions or {})}
    sha = file_sha256(labels_path)
    with transaction.atomic():
        _write(name, root, labels_name or str(labels_path.resolve()), parsed, probes, descriptions, sha, user, report)
    say(report.summary())
    return report


def _refuse_links_out_of_root(root: Path, rows: list[LabelRow], source: str, show_content: bool) -> None:
    """Refuse (ImportFailed) clips whose file, with symbolic links followed, is outside the audio root: the
    review pages would refuse to serve them, and the root is the boundary of what an import may read."""
    outside = [row for row in rows if not (root / row.path).resolve().is_relative_to(root)]
    if not outside:
        return
    listed = "\n".join(f"  line {row.line}" + (f" ({row.path})" if show_content else "") for row in outside[:25])
    more = f"\n  … and {len(outside) - 25} more" if len(outside) > 25 else ""
    raise ImportFailed(
        f"{source}: {len(outside)} audio paths lead outside the audio root through a symbolic link, nothing was "
        f"imported:\n{listed}{more}\nPoint the audio root at the folder the files really are in."
    )


def _known_clips(dataset: Dataset | None) -> dict[str, tuple[int, bool]]:
    """path → (clip id, readable) for the clips the dataset already has."""
    if dataset is None:
        return {}
    return {path: (pk, readable) for pk, path, readable in dataset.clips.values_list("id", "path", "readable")}


def _write(
    name: str,
    root: Path,
    labels_name: str,
    parsed: ParsedLabels,
    probes: dict[str, AudioInfo],
    descriptions: dict[str, str],
    sha: str,
    user: User | None,
    report: ImportReport,
) -> None:
    dataset, report.created_dataset = Dataset.objects.get_or_create(name=name, defaults={"audio_root": str(root)})
    # Serialises concurrent imports of one dataset (a no-op lock on SQLite, whose writes are serial).
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
    batch = ImportBatch(
        dataset=dataset,
        labels_file=labels_name[:1024],
        file_format=parsed.file_format,
        sha256=sha,
        rows=len(parsed.rows),
        user=recorded_user(user),
    )
    changed = report.created_dataset

    tag_ids = dict(dataset.tags.values_list("name", "id"))
    new_tags = [
        Tag(dataset=dataset, name=t, description=descriptions.get(t, "")) for t in parsed.tags if t not in tag_ids
    ]
    if new_tags:
        Tag.objects.bulk_create(new_tags, batch_size=BULK_BATCH)
        tag_ids = dict(dataset.tags.values_list("name", "id"))
        report.tags_added = len(new_tags)
        changed = True
    for tag_name, description in descriptions.items():
        if tag_name in tag_ids and description:
            changed |= bool(dataset.tags.filter(name=tag_name, description="").update(description=description))
    column_tag_ids = [tag_ids[t] for t in parsed.tags]

    known = _known_clips(dataset)
    in_file = {row.path for row in parsed.rows}
    report.clips_not_in_file = sum(1 for path in known if path not in in_file)

    # Clips seen before that were unreadable get their new probe result.
    revived = [
        Clip(pk=known[p][0], duration=info.duration, sample_rate=info.sample_rate, readable=True, unreadable_reason="")
        for p, info in probes.items()
        if p in known and info.readable
    ]
    if revived:
        Clip.objects.bulk_update(revived, ["duration", "sample_rate", "readable", "unreadable_reason"], BULK_BATCH)
        report.became_readable = len(revived)
        changed = True

    new_rows = [row for row in parsed.rows if row.path not in known]
    old_rows = [row for row in parsed.rows if row.path in known]
    changed |= _regroup(dataset, old_rows, known)
    label_changes = _label_differences(dataset, old_rows, known, column_tag_ids, batch, user, report)
    changed |= bool(new_rows or label_changes[0] or label_changes[1])
    if not changed:
        report.batch_id = None
        return

    batch.clips_added = len(new_rows)
    batch.tags_added = report.tags_added
    batch.unreadable = len(report.unreadable)
    batch.save()
    if new_rows:
        clips = [_new_clip(dataset, batch, row, probes[row.path]) for row in new_rows]
        Clip.objects.bulk_create(clips, batch_size=BULK_BATCH)
        labels = [
            Label(dataset=dataset, clip_id=clip.pk, tag_id=column_tag_ids[i], present=True)
            for clip, row in zip(clips, new_rows, strict=True)
            for i in row.tag_indices
        ]
        Label.objects.bulk_create(labels, batch_size=BULK_BATCH)
        report.clips_added = len(clips)
        report.labels_added += len(labels)

    additions, removals, history = label_changes
    if additions:
        Label.objects.bulk_create(additions, batch_size=BULK_BATCH)
    for start in range(0, len(removals), BULK_BATCH):
        Label.objects.filter(pk__in=removals[start : start + BULK_BATCH]).delete()
    for change in history:
        change.import_batch = batch
    LabelChange.objects.bulk_create(history, batch_size=BULK_BATCH)
    batch.labels_added, batch.labels_removed = report.labels_added, report.labels_removed
    batch.save(update_fields=["labels_added", "labels_removed"])
    recount_tags(dataset)
    Dataset.objects.filter(pk=dataset.pk).update(updated_at=batch.created_at)
    report.batch_id = batch.pk


def _regroup(dataset: Dataset, rows: list[LabelRow], known: dict[str, tuple[int, bool]]) -> bool:
    """Give clips already imported the group the file names now (a file may add groups later); whether any moved."""
    named = {row.path: row.group for row in rows if row.group}
    if not named:
        return False
    moved = [
        Clip(pk=known[path][0], group=named[path])
        for path, group in dataset.clips.filter(path__in=list(named)).values_list("path", "group")
        if group != named[path]
    ]
    Clip.objects.bulk_update(moved, ["group"], BULK_BATCH)
    return bool(moved)


def _new_clip(dataset: Dataset, batch: ImportBatch, row: LabelRow, info: AudioInfo) -> Clip:
    return Clip(
        dataset=dataset,
        path=row.path,
        group=row.group,
        import_batch=batch,
        duration=info.duration,
        sample_rate=info.sample_rate,
        readable=info.readable,
        unreadable_reason=info.error,
    )


def _label_differences(
    dataset: Dataset,
    rows: list,
    known: dict[str, tuple[int, bool]],
    column_tag_ids: list[int],
    batch: ImportBatch,
    user: User | None,
    report: ImportReport,
) -> tuple[list[Label], list[int], list[LabelChange]]:
    """Labels to add, label ids to delete and history rows, for clips the dataset already has."""
    if not rows:
        return [], [], []
    # clip id → {tag id: (label id, present, verified)}
    current: dict[int, dict[int, tuple[int, bool, bool]]] = defaultdict(dict)
    for pk, clip_id, tag_id, present, verified in (
        Label.objects.filter(dataset=dataset)
        .values_list("id", "clip_id", "tag_id", "present", "verified")
        .iterator(chunk_size=BULK_BATCH)
    ):
        current[clip_id][tag_id] = (pk, present, verified)

    additions: list[Label] = []
    removals: list[int] = []
    history: list[LabelChange] = []
    actor = recorded_user(user)
    for row in rows:
        clip_id = known[row.path][0]
        given = {column_tag_ids[i] for i in row.tag_indices}
        labels = current.get(clip_id, {})
        for tag_id in given:
            state = labels.get(tag_id)
            if state is None:
                additions.append(Label(dataset=dataset, clip_id=clip_id, tag_id=tag_id, present=True))
                history.append(_change(dataset, clip_id, tag_id, False, True, actor))
            elif state[2] and not state[1]:
                report.verified_kept += 1
        for tag_id, (pk, present, verified) in labels.items():
            if tag_id in given or not present:
                continue
            if verified:
                report.verified_kept += 1
            else:
                removals.append(pk)
                history.append(_change(dataset, clip_id, tag_id, True, False, actor))
    report.labels_added += len(additions)
    report.labels_removed += len(removals)
    return additions, removals, history


def _change(dataset: Dataset, clip_id: int, tag_id: int, before: bool, after: bool, user) -> LabelChange:
    return LabelChange(
        dataset=dataset,
        clip_id=clip_id,
        tag_id=tag_id,
        before=before,
        after=after,
        source=LabelChange.Source.IMPORT,
        user=user,
        reason="re-import of a changed labels file",
    )
