from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "auditor.labels"
    label = "labels"
    verbose_name = "Labels and label history"
