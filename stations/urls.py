from django.urls import path

from stations import views

app_name = "stations"

urlpatterns = [
    path("live/", views.live_board, name="live-board"),
]
