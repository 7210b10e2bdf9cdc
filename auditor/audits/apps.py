from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "auditor.audits"
    label = "audits"
    verbose_name = "Audits, model versions and review items"
