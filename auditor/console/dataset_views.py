from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from auditor.accounts.roles import AuthenticatedRequest, admin_required, is_admin, is_annotator
from auditor.datasets.forms import ImportForm, ReviewSettingsForm, form_problems
from auditor.datasets.models import Dataset
from auditor.datasets.queries import dataset_summaries
from auditor.labels.exporting import export_labels
from auditor.labels.importing import ImportFailed, import_dataset
from auditor.queue.reviews import apply_calibration_overlap


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Admins land on their datasets, annotators on the review page, people with no role on an explanation."""
    if is_admin(request.user):
        return render(request, "datasets/list.html", {"summaries": dataset_summaries(), "import_form": ImportForm()})
    if is_annotator(request.user):
        return redirect("review")
    return render(request, "no_role.html", status=403)


@admin_required
def dataset_export(request: AuthenticatedRequest, name: str) -> FileResponse:
    dataset = get_object_or_404(Dataset, name=name)
    exports = Path(settings.DATA_DIR) / "exports"
    out = exports / f"{dataset.name}-labels.csv"
    export_labels(dataset, out)
    return FileResponse(
        out.open("rb"), as_attachment=True, filename=f"{dataset.name}-labels.csv", content_type="text/csv"
    )


@require_POST
@admin_required
def dataset_import(request: AuthenticatedRequest) -> HttpResponse:
    """Import from the page; every problem the import finds is listed on the page and nothing is written."""
    form = ImportForm(request.POST, request.FILES, upload_too_large=getattr(request, "upload_too_large", False))
    problems = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            with form.labels_file() as labels:
                report = import_dataset(
                    data["name"],
                    audio_root=data["audio_root"],
                    labels_file=labels.path,
                    labels_name=labels.name,
                    show_content=labels.uploaded,
                    file_format=data["file_format"],
                    skip_unreadable=data["skip_unreadable"],
                    user=request.user,
                )
        except (ImportFailed, ValidationError) as exc:
            problems = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        else:
            added = f"{report.clips_added} clips, {report.labels_added} labels added, {report.labels_removed} removed"
            messages.success(request, f"Imported {report.rows} rows into {report.dataset}: {added}.")
            return redirect("dataset-detail", name=report.dataset)
    context = {"summaries": dataset_summaries(), "import_form": form, "import_problems": problems}
    return render(request, "datasets/list.html", context, status=400)


@require_POST
@admin_required
def dataset_settings(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    form = ReviewSettingsForm(request.POST, instance=dataset)
    if form.is_valid():
        with transaction.atomic():
            form.save()
            changed = 0
            if "calibration_overlap" in form.changed_data:
                changed = apply_calibration_overlap(dataset, request.user)
        followed = f" {changed} open calibration items follow the new number of answers." if changed else ""
        messages.success(request, "Settings saved." + followed)
    else:
        messages.error(request, f"Not saved: {form_problems(form)}")
    return redirect("dataset-detail", name=dataset.name)
