"""Portal pages about the account: profile and billing details, the company's fleet, privacy (GDPR)."""

from django.urls import path

from . import fleet, privacy, profile

urlpatterns = [
    path("account/", profile.profile, name="profile"),
    path("account/fleet/", fleet.fleet, name="fleet"),
    path("account/fleet/invite/", fleet.fleet_invite, name="fleet_invite"),
    path("account/fleet/drivers/<int:pk>/role/", fleet.fleet_driver_role, name="fleet_driver_role"),
    path("account/fleet/drivers/<int:pk>/remove/", fleet.fleet_driver_remove_view, name="fleet_driver_remove"),
    path("account/fleet/cards/<int:pk>/assign/", fleet.fleet_card_assign_view, name="fleet_card_assign"),
    path("account/privacy/", privacy.privacy, name="privacy"),
    path("account/privacy/export.json", privacy.privacy_export, name="privacy_export"),
    path("account/privacy/delete/", privacy.privacy_delete, name="privacy_delete"),
]
