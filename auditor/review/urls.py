from django.urls import path

from auditor.review import api, views

urlpatterns = [
    path("review/", views.review_page, name="review"),
    path("review/history/", views.history_page, name="review-history"),
    path("review/items/<id:item_id>/audio", views.item_audio, name="review-audio"),
    path("review/items/<id:item_id>/spectrogram.png", views.item_spectrogram, name="review-spectrogram"),
    path("api/review/claim", api.claim, name="api-claim"),
    path("api/review/items/<id:item_id>/renew", api.renew_lease, name="api-renew"),
    path("api/review/items/<id:item_id>/submit", api.submit_answer, name="api-submit"),
    path("api/review/items/<id:item_id>/skip", api.skip_item, name="api-skip"),
    path("api/review/items/<id:item_id>/reveal", api.reveal, name="api-reveal"),
    path("api/review/undo", api.undo, name="api-undo"),
    path("api/review/tally", api.my_tally, name="api-tally"),
    path("api/review/history", api.my_history, name="api-history"),
    path("api/schema.json", api.openapi_schema, name="api-schema"),
]
