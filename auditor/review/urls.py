from django.urls import path

from auditor.review import views
from auditor.review.api import api

urlpatterns = [
    path("review/", views.review_page, name="review"),
    path("review/history/", views.history_page, name="review-history"),
    path("review/items/<id:item_id>/audio", views.item_audio, name="review-audio"),
    path("review/items/<id:item_id>/spectrogram.png", views.item_spectrogram, name="review-spectrogram"),
    path("api/", api.urls),
]
