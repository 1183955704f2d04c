from django.urls import path

from . import views

app_name = "adhoc"

urlpatterns = [
    path("adhoc/<uuid:uuid>/confirmed/", views.adhoc_confirmed, name="confirmed"),
    path("adhoc/<uuid:uuid>/status.json", views.adhoc_status_json, name="status"),
    path("adhoc/<uuid:uuid>/receipt.pdf", views.adhoc_receipt, name="receipt"),
    path("<str:evse_id>/", views.charge_page, name="page"),
    path("<str:evse_id>/qr.svg", views.charge_qr, name="qr"),
    path("<str:evse_id>/start/", views.charge_start, name="start"),
]
