"""The Django admin for datasets and their history. Tags are registered by auditor.audits.admin: a weight change
there must re-rank the review queue, which this app does not own."""

from django.contrib import admin
from django.http import HttpRequest

from auditor.datasets.models import Clip, Dataset, ImportBatch, LabelChange


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "audio_root", "reveal_label", "created_at", "updated_at"]
    list_editable = ["reveal_label"]
    search_fields = ["name"]


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


@admin.register(LabelChange)
class LabelChangeAdmin(admin.ModelAdmin):
    """Read-only: the history is append-only."""

    list_display = ["created_at", "dataset", "clip", "tag", "before", "after", "source", "user"]
    list_filter = ["dataset", "source"]
    list_select_related = ["dataset", "clip", "tag", "user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
