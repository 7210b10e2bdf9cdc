"""Helpers shared by the audit commands."""

from django.core.management.base import CommandError

from auditor.datasets.models import Dataset


def dataset_named(name: str) -> Dataset:
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        raise CommandError(f"no dataset named {name!r}")
    return dataset
