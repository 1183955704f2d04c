"""Top-level URLs: the admin, the REST API and its schema, and health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from evbackoffice import views

admin.site.site_header = "evbackoffice"
admin.site.site_title = "evbackoffice"
admin.site.index_title = "Charging network back office"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("staff/", include("staff.urls")),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("customers.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("stations/", include("stations.urls")),
    path("accounting/", include("billing.accounting.urls")),
    path("payments/", include("billing.payments.urls")),
    path("charge/", include("billing.adhoc.urls")),
    path("api/v1/", include("evbackoffice.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
