"""Portal pages: start and stop charging, and the live session page."""

from django.urls import path

from . import views

urlpatterns = [
    path("charge/", views.charge_find, name="charge-find"),
    path("charge/starts/<int:command_id>/", views.start_progress_page, name="start-progress"),
    path("charge/starts/<int:command_id>/status.json", views.start_status, name="start-status"),
    path("charge/<str:evse_id>/", views.charge_start, name="start"),
    path("sessions/<int:pk>/", views.session_page, name="session"),
    path("sessions/<int:pk>/stop/", views.session_stop, name="session-stop"),
]
