from django.urls import path

from stations import views
from stations.dashboard import views as dashboard

app_name = "stations"

urlpatterns = [
    path("live/", views.live_board, name="live-board"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/charts.json", dashboard.charts, name="dashboard-charts"),
    path("dashboard/counters.json", dashboard.counters, name="dashboard-counters"),
]
