"""Find a charger (public, no sign-in needed): the map and searchable list of locations with live availability
and the price in plain words, a location's EVSEs, and the availability JSON the map refreshes."""

from django.urls import path

from . import views

urlpatterns = [
    path("chargers/", views.charger_list, name="chargers"),
    path("chargers/status.json", views.charger_status, name="chargers-status"),
    path("chargers/<int:pk>/", views.charger_detail, name="charger"),
]
