from django.apps import AppConfig


class QueueConfig(AppConfig):
    name = "auditor.queue"
    label = "queue"
    verbose_name = "Review queue"
