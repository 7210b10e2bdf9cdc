"""Admin pages: tag priorities and per-tag health."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from auditor.accounts.roles import AuthenticatedRequest, admin_required
from auditor.console.forms import TagPriorityFormSet
from auditor.console.health_report import COLUMNS, health_report
from auditor.console.queue_browser import open_items_of_tag
from auditor.datasets.forms import ReviewSettingsForm
from auditor.datasets.models import Dataset
from auditor.datasets.queries import tag_table
from auditor.queue.filling import open_items_by_kind, reprioritise
from auditor.runs.models import AuditRun, ModelVersion
from tagging.calibration import MIN_ANSWERS_PER_STRATUM


@admin_required
def dataset_detail(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    open_items = open_items_by_kind(dataset)
    context = {
        "dataset": dataset,
        "clip_count": dataset.clips.count(),
        "unreadable": dataset.clips.filter(readable=False).order_by("path")[:100],
        "unreadable_count": dataset.clips.filter(readable=False).count(),
        "tags": tag_table(dataset),
        "imports": dataset.imports.select_related("user")[:20],
        "open_items": open_items,
        "open_total": sum(open_items.values()),
        "active_version": ModelVersion.objects.filter(dataset=dataset, active=True).first(),
        "current_run": AuditRun.objects.filter(dataset=dataset, status__in=AuditRun.IN_PROGRESS).first(),
        "settings_form": ReviewSettingsForm(instance=dataset),
    }
    return render(request, "datasets/detail.html", context)


@admin_required
def tag_priorities(request: AuthenticatedRequest, name: str) -> HttpResponse:
    """Weights, descriptions, focus and active flags of a dataset's tags; saving re-ranks the open queue."""
    dataset = get_object_or_404(Dataset, name=name)
    # Each tag's open items, shown beside it as a link to them in the queue browser.
    tags = dataset.tags.annotate(open_items=open_items_of_tag()).order_by("-weight", "name")
    formset = TagPriorityFormSet(request.POST or None, queryset=tags)
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            changed = formset.save()
            reweighted = [form.instance for form in formset.forms if "weight" in form.changed_data]
            items = reprioritise(reweighted)
        messages.success(
            request,
            f"Saved {len(changed)} tag{'s' if len(changed) != 1 else ''}; {items:,} open review items re-ordered.",
        )
        return redirect("tag-priorities", name=dataset.name)
    focused = [tag.name for tag in tags if tag.focus]
    return render(
        request,
        "console/tags.html",
        {"dataset": dataset, "formset": formset, "focused": focused},
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def tag_health_page(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    report = health_report(dataset, sort=request.GET.get("sort", "tag"))
    context = {"dataset": dataset, "report": report, "columns": COLUMNS, "min_answers": MIN_ANSWERS_PER_STRATUM}
    return render(request, "console/health.html", context)
