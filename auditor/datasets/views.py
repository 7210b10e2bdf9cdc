from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from auditor.accounts.roles import admin_required, is_admin, is_annotator
from auditor.datasets.exporting import export_labels
from auditor.datasets.models import Dataset
from auditor.datasets.queries import dataset_summaries, tag_table


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Admins land on their datasets, annotators on the review page, people with no role on an explanation."""
    if is_admin(request.user):
        return render(request, "datasets/list.html", {"summaries": dataset_summaries()})
    if is_annotator(request.user):
        return redirect("review")
    return render(request, "no_role.html", status=403)


@admin_required
def dataset_detail(request: HttpRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    context = {
        "dataset": dataset,
        "clip_count": dataset.clips.count(),
        "unreadable": dataset.clips.filter(readable=False).order_by("path")[:100],
        "unreadable_count": dataset.clips.filter(readable=False).count(),
        "tags": tag_table(dataset),
        "imports": dataset.imports.select_related("user")[:20],
    }
    return render(request, "datasets/detail.html", context)


@admin_required
def dataset_export(request: HttpRequest, name: str) -> FileResponse:
    dataset = get_object_or_404(Dataset, name=name)
    exports = Path(settings.DATA_DIR) / "exports"
    out = exports / f"{dataset.name}-labels.csv"
    export_labels(dataset, out)
    return FileResponse(out.open("rb"), as_attachment=True, filename=f"{dataset.name}-labels.csv",
                        content_type="text/csv")  # fmt: skip
