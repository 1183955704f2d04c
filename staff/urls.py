from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("2fa/setup/", views.setup_view, name="2fa-setup"),
    path("2fa/verify/", views.verify_view, name="2fa-verify"),
    path("2fa/backup-codes/", views.backup_codes_view, name="2fa-backup-codes"),
]
