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
from auditor.durations import human_duration
from auditor.runs.lifecycle import RunRefused, cancel_run, queue_run, retrain_threshold, retry_run
from auditor.runs.models import AuditRun, ModelVersion
from auditor.runs.schedules import RetrainSchedule, retrain_schedule, set_retrain_schedule
from tagging.configs import FRONT_ENDS

LOG_LINES = 200
EPOCH_FIELDS = {"train_loss": "training loss", "validation_auc": "validation ROC-AUC"}  # as the log shows them
KIND_NAMES: dict[str, str] = {
    AuditRun.Kind.AUDIT: "Audit",
    AuditRun.Kind.RETRAIN: "Retraining",
    AuditRun.Kind.RESCORE: "Re-scoring",
}


def progress_payload(run: AuditRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "stage": run.stage,
        "progress": round(run.progress, 4),
        "message": run.message,
        "seconds": run.seconds,
        "eta_seconds": run.eta_seconds,
        # As the page shows them: progress.js draws these, so the live bar and the page cannot differ.
        "elapsed": human_duration(run.seconds),
        "eta": human_duration(run.eta_seconds),
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
        AuditRun.objects.select_related("dataset", "requested_by", "cancel_requested_by", "model_version"), pk=run_id
    )
    front_end = run.params.get("front_end", "")
    return render(
        request,
        "console/run.html",
        {
            "run": run,
            "headline": run_headline(run),
            "log": _epoch_log(run),
            "params": run.params,
            "front_end": front_end,
            "front_end_trained_on": FRONT_ENDS.get(front_end, ""),
        },
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


def run_headline(run: AuditRun) -> str:
    """What came of a finished run, in one sentence; "" while it is in progress (its bar says that)."""
    if run.in_progress:
        return ""
    kind = KIND_NAMES.get(run.kind, run.kind)
    if run.status == AuditRun.Status.FAILED:
        first_line = run.error.splitlines()[0] if run.error else "no error was recorded"
        return f"{kind} failed: {first_line}"
    version = _model_version(run)
    if version is None:
        return f"{kind} finished."
    promotion = version.metrics.get("promotion") or {}
    reason = promotion.get("reason", "")
    because = f": {reason}" if reason else "."
    if version.active:
        return f"{kind} finished — the new model v{version.number} is active{because}"
    if promotion.get("promoted") is False:
        return f"{kind} finished — the new model v{version.number} was kept inactive{because}"
    return (
        f"{kind} finished — the new model v{version.number} became active, and a later version has replaced it since."
    )


def _model_version(run: AuditRun) -> ModelVersion | None:
    try:
        return run.model_version
    except ModelVersion.DoesNotExist:  # a re-score, or a run that failed before its model was saved
        return None


def _epoch_log(run: AuditRun) -> list[str]:
    """The run's per-epoch training log (written when the run completes), as short lines."""
    if not run.run_dir:
        return []
    path = Path(run.run_dir) / "epochs.jsonl"
    try:
        entries = [json.loads(line) for line in path.read_text().splitlines()[-LOG_LINES:]]
    except (OSError, ValueError):
        return []
    folds = run.params.get("folds", "?")  # every run's params name its folds (create_run stores them all)
    return [_epoch_line(entry, folds) for entry in entries if isinstance(entry, dict)]


def _epoch_line(entry: dict, folds: int | str) -> str:
    parts = []
    for key, value in entry.items():
        if key == "fold" and isinstance(value, int):
            # Stored counting from 0, as `fold` in scores.npz and the checkpoints' names; a person counts from 1,
            # as the run's progress message does ("fold 1/3").
            parts.append(f"fold {value + 1}/{folds}")
        elif key == "seconds" and isinstance(value, int | float):
            parts.append(f"{value:.1f} s" if value < 60 else human_duration(value))
        else:
            name = EPOCH_FIELDS.get(key, key.replace("_", " "))
            parts.append(f"{name} {value:.4g}" if isinstance(value, float) else f"{name} {value}")
    return " · ".join(parts)
