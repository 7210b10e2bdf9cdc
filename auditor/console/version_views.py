"""Admin pages for model versions: the list, a tag-by-tag comparison of two, promotion."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from auditor.accounts.roles import AuthenticatedRequest, admin_required
from auditor.datasets.models import Dataset
from auditor.inputs import BadInput, query_int
from auditor.runs.models import ModelVersion
from auditor.runs.versions import promote_version

MAX_VERSION_NUMBER = 2**31 - 1  # ModelVersion.number is a PositiveIntegerField
COMPARED = ("roc_auc_given", "roc_auc_verified", "pr_auc_given", "pr_auc_verified")


@dataclass
class TagComparison:
    tag: str
    figures: list[tuple[float | None, float | None, float | None]]  # per COMPARED: (a, b, b − a)


@require_GET
@admin_required
def model_versions(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    versions = list(dataset.model_versions.select_related("run").order_by("-number"))
    return render(request, "console/versions.html", {"dataset": dataset, "versions": versions})


@require_GET
@admin_required
def compare_versions(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    try:
        a, b = (query_int(request, key, None, maximum=MAX_VERSION_NUMBER) for key in ("a", "b"))
    except BadInput:
        a = b = None
    if a is None or b is None:
        raise Http404("choose two versions to compare (a and b)")
    first = get_object_or_404(ModelVersion, dataset=dataset, number=a)
    second = get_object_or_404(ModelVersion, dataset=dataset, number=b)
    tags_a, tags_b = first.metrics.get("tags", {}), second.metrics.get("tags", {})
    rows = []
    for tag in sorted(set(tags_a) | set(tags_b)):
        figures = []
        for key in COMPARED:
            x, y = tags_a.get(tag, {}).get(key), tags_b.get(tag, {}).get(key)
            figures.append((x, y, None if x is None or y is None else y - x))
        rows.append(TagComparison(tag, figures))
    return render(
        request,
        "console/compare.html",
        {
            "dataset": dataset,
            "a": first,
            "b": second,
            "rows": rows,
            "headings": ["ROC-AUC given", "ROC-AUC verified", "PR-AUC given", "PR-AUC verified"],
        },
    )


@require_POST
@admin_required
def promote(request: AuthenticatedRequest, name: str, number: int) -> HttpResponse:
    version = get_object_or_404(ModelVersion.objects.select_related("dataset"), dataset__name=name, number=number)
    run = promote_version(version, request.user)
    if run is None:
        messages.warning(
            request,
            f"v{number} is active. The queue was not re-scored: another run is in progress; "
            "re-score when it ends (Runs, or `rescore` on the command line).",
        )
        return redirect("model-versions", name=name)
    messages.success(request, f"v{number} is active; re-scoring the queue with it (run #{run.pk}).")
    return redirect("run-detail", run_id=run.pk)
