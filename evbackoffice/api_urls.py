"""The REST API, version 1: one router, on which every app's viewsets are registered here, in one list.

Registering here rather than from the apps keeps the whole URL map in one place and the imports one-way.
"""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from billing.api.cdrs import ChargeDetailRecordViewSet
from billing.api.feeds import PriceFeedViewSet
from billing.api.invoices import InvoiceViewSet
from billing.api.loyalty import CustomerPointsView, MembershipPlanViewSet, MembershipViewSet, PromoCodeViewSet
from billing.api.tariffs import TariffAssignmentViewSet, TariffViewSet
from customers.api import CustomerViewSet, IdTokenViewSet
from stations.api import ChargePointViewSet, LocationViewSet, StationCommandViewSet

router = DefaultRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("charge-points", ChargePointViewSet, basename="charge-point")
router.register("customers", CustomerViewSet, basename="customer")
router.register("tokens", IdTokenViewSet, basename="id-token")
router.register("tariffs", TariffViewSet, basename="tariff")
router.register("tariff-assignments", TariffAssignmentViewSet, basename="tariff-assignment")
router.register("price-feeds", PriceFeedViewSet, basename="price-feed")
router.register("membership-plans", MembershipPlanViewSet, basename="membership-plan")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("promo-codes", PromoCodeViewSet, basename="promo-code")
router.register("cdrs", ChargeDetailRecordViewSet, basename="cdr")
router.register("invoices", InvoiceViewSet, basename="invoice")

IDENTITY = r"(?P<identity>[A-Za-z0-9._-]{1,48})"

urlpatterns = router.urls + [
    re_path(rf"^charge-points/{IDENTITY}/commands/$",
            StationCommandViewSet.as_view({"get": "list", "post": "create"}), name="charge-point-commands"),
    re_path(rf"^charge-points/{IDENTITY}/commands/(?P<pk>[0-9]+)/$",
            StationCommandViewSet.as_view({"get": "retrieve"}), name="charge-point-command"),
    re_path(r"^customers/(?P<customer_id>[0-9]+)/points/$", CustomerPointsView.as_view(), name="customer-points"),
]
