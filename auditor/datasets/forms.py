"""The import form of the datasets page: the same checks as `import_dataset`, from the browser."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings

from auditor.datasets.formats import FORMATS
from auditor.datasets.models import Dataset, dataset_name_validator


def form_problems(form: forms.BaseForm) -> str:
    """A form's errors as one line naming each field, for a message on the page it redirects to."""
    return "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items())


def server_path_in_import_roots(raw: str, *, folder: bool) -> Path | None:
    """The path, with symbolic links followed, if it is an existing file (or folder) under one of IMPORT_ROOTS;
    None otherwise — missing, not allowed and the wrong kind all look the same to the person asking."""
    try:
        resolved = Path(raw).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a link loop, a NUL
        return None
    if not any(resolved.is_relative_to(root) for root in settings.IMPORT_ROOTS):
        return None
    return resolved if (resolved.is_dir() if folder else resolved.is_file()) else None


def _roots_hint() -> str:
    if not settings.IMPORT_ROOTS:
        return "this server reads no server paths from this form (IMPORT_ROOTS is not set)"
    return "this server reads only under " + ", ".join(str(root) for root in settings.IMPORT_ROOTS) + " (IMPORT_ROOTS)"


@dataclass(frozen=True)
class LabelsFile:
    path: Path
    name: str  # what the import history records
    uploaded: bool  # the person sent it: its content may be quoted back in error messages


class ImportForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        validators=[dataset_name_validator],
        help_text="a new name, or an existing dataset's to update it",
    )
    audio_root = forms.CharField(max_length=1024, help_text="folder on the server the clip paths are relative to")
    labels_upload = forms.FileField(required=False, label="Labels file (upload)")
    labels_path = forms.CharField(max_length=1024, required=False, label="… or its path on the server")
    file_format = forms.ChoiceField(choices=[(f, f) for f in FORMATS], initial="csv", label="Format")
    skip_unreadable = forms.BooleanField(required=False, label="Import the rest when some audio files cannot be read")

    def __init__(self, *args, upload_too_large: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.upload_too_large = upload_too_large

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.upload_too_large:
            limit = settings.IMPORT_MAX_UPLOAD_BYTES
            raise forms.ValidationError(
                f"the labels file is larger than {limit:,} bytes (IMPORT_MAX_UPLOAD_BYTES); nothing was imported"
            )
        if bool(data.get("labels_upload")) == bool((data.get("labels_path") or "").strip()):
            raise forms.ValidationError("give the labels file either as an upload or as a path on the server")
        return data

    def clean_labels_path(self) -> str:
        raw = self.cleaned_data.get("labels_path", "").strip()
        if raw and server_path_in_import_roots(raw, folder=False) is None:
            raise forms.ValidationError(f"no labels file this server may import at that path: {_roots_hint()}")
        return raw

    def clean_audio_root(self) -> str:
        """A folder under IMPORT_ROOTS, or the audio root the dataset already has (re-imports)."""
        raw = self.cleaned_data.get("audio_root", "").strip()
        existing = Dataset.objects.filter(name=self.data.get("name", "")).values_list("audio_root", flat=True).first()
        if existing is not None and Path(raw) == Path(existing):
            return existing
        resolved = server_path_in_import_roots(raw, folder=True)
        if resolved is None:
            raise forms.ValidationError(
                f"no audio folder this server may import from at that path: {_roots_hint()}, or the dataset's own"
            )
        return str(resolved)

    @contextmanager
    def labels_file(self) -> Iterator[LabelsFile]:
        """The labels file for the import: the server file, or the upload saved under DATA_DIR/uploads, which is
        removed when the import is over, whatever its outcome."""
        upload = self.cleaned_data.get("labels_upload")
        if not upload:
            path = server_path_in_import_roots(self.cleaned_data["labels_path"], folder=False)
            if path is None:  # gone since the form was checked
                raise forms.ValidationError(f"no labels file this server may import at that path: {_roots_hint()}")
            yield LabelsFile(path, str(path), uploaded=False)
            return
        folder = Path(settings.DATA_DIR) / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            target = folder / (re.sub(r"[^\w.-]", "_", Path(upload.name).name)[:100] or "labels")
            with target.open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            yield LabelsFile(target, f"upload: {target.name}", uploaded=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class ReviewSettingsForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = ["reveal_label", "calibration_overlap", "description"]
        labels = {
            "reveal_label": "Show annotators the current label and the model's belief",
            "calibration_overlap": "Answers per calibration item",
            "description": "Description",
        }
        help_texts = {
            "calibration_overlap": "2 or more measures each annotator's accuracy; 1 for a team of one (its answers "
            "are then taken to be wrong 7.5% of the time, with intervals that allow 0–15%). Open calibration items "
            "follow at once.",
        }
        widgets = {"description": forms.TextInput()}
