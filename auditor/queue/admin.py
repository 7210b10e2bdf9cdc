"""The Django admin's view of tags: editing a weight here re-ranks the open review queue, as the tag page does."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.forms import ModelForm
from django.http import HttpRequest

from auditor.datasets.models import Tag
from auditor.queue.filling import reprioritise


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset", "weight", "active"]
    list_filter = ["dataset", "active"]
    list_editable = ["weight", "active"]
    search_fields = ["name", "description"]

    def save_model(self, request: HttpRequest, obj: Tag, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "weight" in form.changed_data:
                reprioritise([obj])
