from django.urls import path

from auditor.console import people_views, queue_views, run_views, version_views, views

urlpatterns = [
    path("datasets/<str:name>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<str:name>/tags/", views.tag_priorities, name="tag-priorities"),
    path("datasets/<str:name>/health/", views.tag_health_page, name="tag-health"),
    path("datasets/<str:name>/runs/", run_views.dataset_runs, name="dataset-runs"),
    path("datasets/<str:name>/runs/start", run_views.start_run, name="run-start"),
    path("datasets/<str:name>/runs/policy", run_views.retrain_policy, name="retrain-policy"),
    path("datasets/<str:name>/models/", version_views.model_versions, name="model-versions"),
    path("datasets/<str:name>/models/compare", version_views.compare_versions, name="compare-versions"),
    path("datasets/<str:name>/models/<id:number>/promote", version_views.promote, name="promote-version"),
    path("datasets/<str:name>/annotators/", people_views.annotators, name="annotators"),
    path("datasets/<str:name>/disputed/", people_views.disputed, name="disputed"),
    path("datasets/<str:name>/disputed/<id:item_id>/decide", people_views.decide, name="decide-item"),
    path("datasets/<str:name>/items/", queue_views.queue_browser, name="queue-browser"),
    path("datasets/<str:name>/items/<id:item_id>/", queue_views.queue_item, name="queue-item"),
    path("datasets/<str:name>/items/<id:item_id>/notes", queue_views.add_note, name="item-note"),
    path("datasets/<str:name>/history/", people_views.label_history, name="label-history"),
    path("datasets/<str:name>/history/<id:change_id>/revert", people_views.revert, name="revert-change"),
    path("runs/<id:run_id>/", run_views.run_detail, name="run-detail"),
    path("runs/<id:run_id>/progress.json", run_views.run_progress, name="run-progress"),
    path("runs/<id:run_id>/retry", run_views.run_retry, name="run-retry"),
    path("runs/<id:run_id>/cancel", run_views.run_cancel, name="run-cancel"),
]
