from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "auditor.console"
    label = "console"
    verbose_name = "Admin pages"
