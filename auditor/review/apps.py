from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "auditor.review"
    label = "review"
    verbose_name = "Review page and API"
