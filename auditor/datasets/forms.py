"""The import form of the datasets page: the same checks as `import_dataset`, from the browser."""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings

from auditor.datasets.formats import FORMATS
from auditor.datasets.models import Dataset, dataset_name_validator


def form_problems(form: forms.BaseForm) -> str:
    """A form's errors as one line naming each field, for a message on the page it redirects to."""
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


class ImportForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[dataset_name_validator],
                           help_text="a new name, or an existing dataset's to update it")  # fmt: skip
    audio_root = forms.CharField(max_length=1024, help_text="folder on the server the clip paths are relative to")
    labels_upload = forms.FileField(required=False, label="Labels file (upload)")
    labels_path = forms.CharField(max_length=1024, required=False, label="… or its path on the server")
    file_format = forms.ChoiceField(choices=[(f, f) for f in FORMATS], initial="csv", label="Format")
    skip_unreadable = forms.BooleanField(required=False, label="Import the rest when some audio files cannot be read")

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("labels_upload")) == bool((data.get("labels_path") or "").strip()):
            raise forms.ValidationError("give the labels file either as an upload or as a path on the server")
        return data

    def labels_file(self) -> Path:
        """Where the labels file is: the server path as given, or the upload saved under DATA_DIR/uploads."""
        upload = self.cleaned_data.get("labels_upload")
        if not upload:
            return Path(self.cleaned_data["labels_path"].strip()).expanduser()
        folder = Path(settings.DATA_DIR) / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True)
        target = folder / Path(upload.name).name
        with target.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        return target


class ReviewSettingsForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = ["reveal_label", "description"]
        labels = {"reveal_label": "Show annotators the current label and the model's belief",
                  "description": "Description"}  # fmt: skip
        widgets = {"description": forms.TextInput()}
