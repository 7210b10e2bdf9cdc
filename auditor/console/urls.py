from django.urls import path

from auditor.console import views

urlpatterns = [
    path("datasets/<str:name>/tags/", views.tag_priorities, name="tag-priorities"),
    path("datasets/<str:name>/health/", views.tag_health_page, name="tag-health"),
]
