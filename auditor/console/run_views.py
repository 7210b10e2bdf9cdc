"""Admin pages for runs: a dataset's runs with live progress, one run's detail, start, retry, cancel, policy."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from auditor.accounts.roles import AuthenticatedRequest, admin_required
from auditor.console.run_forms import RetrainPolicyForm, StartRunForm
from auditor.datasets.forms import form_problems
from auditor.datasets.models import Dataset
from auditor.runs.lifecycle import RunRefused, cancel_run, queue_run, retrain_threshold, retry_run
from auditor.runs.models import AuditRun
from auditor.runs.schedules import RetrainSchedule, retrain_schedule, set_retrain_schedule

LOG_LINES = 200


def progress_payload(run: AuditRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "stage": run.stage,
        "progress": round(run.progress, 4),
        "message": run.message,
        "seconds": run.seconds,
        "eta_seconds": run.eta_seconds,
        "error": run.error.splitlines()[0] if run.error else "",
        "in_progress": run.in_progress,
    }


def _policy_form(dataset: Dataset, data=None) -> RetrainPolicyForm:
    schedule = retrain_schedule(dataset)
    initial = {"threshold": dataset.retrain_after_verified, "every": schedule.every, "hour": schedule.hour}
    return RetrainPolicyForm(data, initial=initial)


@require_GET
@admin_required
def dataset_runs(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    runs = list(dataset.runs.select_related("requested_by", "model_version")[:50])
    return render(
        request,
        "console/runs.html",
        {
            "dataset": dataset,
            "runs": runs,
            "start_form": StartRunForm(),
            "policy_form": _policy_form(dataset),
            "threshold_now": retrain_threshold(dataset),
            "default_threshold": settings.RETRAIN_AFTER_VERIFIED,
            "busy": any(run.in_progress for run in runs),
        },
    )


@require_POST
@admin_required
def start_run(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    form = StartRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not started: {form_problems(form)}")
        return redirect("dataset-runs", name=dataset.name)
    try:
        run = queue_run(
            dataset,
            form.cleaned_data["kind"],
            form.params(),
            request.user,
            message=f"started from the page by {request.user.username}",
        )
    except RunRefused as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect("dataset-runs", name=dataset.name)
    messages.success(request, f"{run.kind} run #{run.pk} queued for the worker.")
    return redirect("run-detail", run_id=run.pk)


@require_POST
@admin_required
def retrain_policy(request: AuthenticatedRequest, name: str) -> HttpResponse:
    dataset = get_object_or_404(Dataset, name=name)
    form = _policy_form(dataset, request.POST)
    if not form.is_valid():
        messages.error(request, f"Not saved: {form_problems(form)}")
        return redirect("dataset-runs", name=dataset.name)
    dataset.retrain_after_verified = form.cleaned_data["threshold"]
    dataset.save(update_fields=["retrain_after_verified", "updated_at"])
    set_retrain_schedule(dataset, RetrainSchedule(form.cleaned_data["every"], form.cleaned_data["hour"]))
    messages.success(request, "Retraining policy saved.")
    return redirect("dataset-runs", name=dataset.name)


@require_GET
@admin_required
def run_detail(request: AuthenticatedRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(
        AuditRun.objects.select_related("dataset", "requested_by", "cancel_requested_by"), pk=run_id
    )
    return render(
        request,
        "console/run.html",
        {"run": run, "log": _epoch_log(run), "params": run.params, "progress": progress_payload(run)},
    )


@require_GET
@admin_required
def run_progress(request: AuthenticatedRequest, run_id: int) -> JsonResponse:
    return JsonResponse(progress_payload(get_object_or_404(AuditRun, pk=run_id)))


@require_POST
@admin_required
def run_retry(request: AuthenticatedRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(AuditRun, pk=run_id)
    try:
        again = retry_run(run)
    except (ValueError, RunRefused) as exc:
        messages.error(request, f"Not retried: {exc}")
        return redirect("run-detail", run_id=run.pk)
    messages.success(request, f"Run #{run.pk} queued again as run #{again.pk}.")
    return redirect("run-detail", run_id=again.pk)


@require_POST
@admin_required
def run_cancel(request: AuthenticatedRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(AuditRun, pk=run_id)
    try:
        run = cancel_run(run, request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("run-detail", run_id=run.pk)
    if run.status == AuditRun.Status.FAILED:
        messages.success(request, f"Run #{run.pk} cancelled before it started.")
    else:
        messages.success(request, f"Run #{run.pk} will stop at its next progress report (within seconds).")
    return redirect("run-detail", run_id=run.pk)


def _epoch_log(run: AuditRun) -> list[str]:
    """The run's per-epoch training log (written when the run completes), as short lines."""
    if not run.run_dir:
        return []
    path = Path(run.run_dir) / "epochs.jsonl"
    try:
        entries = [json.loads(line) for line in path.read_text().splitlines()[-LOG_LINES:]]
    except (OSError, ValueError):
        return []
    return [
        ", ".join(
            f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}" for key, value in entry.items()
        )
        for entry in entries
    ]
