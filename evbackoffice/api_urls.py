"""The REST API, version 1: one router, on which every app's viewsets are registered here, in one list.

Registering here rather than from the apps keeps the whole URL map in one place and the imports one-way.
"""

from rest_framework.routers import DefaultRouter

from customers.api import CustomerViewSet, IdTokenViewSet
from stations.api import ChargePointViewSet, LocationViewSet

router = DefaultRouter()
router.register("locations", LocationViewSet, basename="location")
router.register("charge-points", ChargePointViewSet, basename="charge-point")
router.register("customers", CustomerViewSet, basename="customer")
router.register("tokens", IdTokenViewSet, basename="id-token")

urlpatterns = router.urls
