"""The REST API, version 1: one router, to which each app registers its viewsets."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = router.urls
