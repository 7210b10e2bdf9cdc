from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "auditor.runs"
    label = "runs"
    verbose_name = "Audit runs and model versions"
