"""The label history in the Django admin, read-only."""

from django.contrib import admin
from django.http import HttpRequest

from auditor.labels.models import LabelChange


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
