"""The Django admin for datasets, clips and imports. Tags are registered by auditor.queue.admin: a weight change
there must re-rank the review queue, which this app does not own; the label history by auditor.labels.admin."""

from django.contrib import admin
from django.http import HttpRequest

from auditor.datasets.models import Clip, Dataset, ImportBatch


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "audio_root", "reveal_label", "created_at", "updated_at"]
    list_editable = ["reveal_label"]
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Dataset | None = None) -> list[str]:
        if obj is None:
            return []
        # Open calibration items must follow a new number of answers, which the dataset page does and this form
        # cannot (that code belongs to the review queue).
        fields = ["calibration_overlap"]
        if not request.user.is_superuser:
            # The admin role: the audio root decides which server folder is read (the import form allows only
            # IMPORT_ROOTS), and schedules and addresses name the dataset.
            fields += ["name", "audio_root"]
        return fields


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = ["path", "dataset", "duration", "sample_rate", "readable"]
    list_filter = ["dataset", "readable"]
    search_fields = ["path"]
    readonly_fields = ["import_batch", "created_at"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["dataset", "labels_file", "file_format", "rows", "clips_added", "created_at"]
    list_filter = ["dataset", "file_format"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
