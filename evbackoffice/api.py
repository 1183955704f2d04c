"""Shared REST API plumbing: pagination and the one place where domain errors become 4xx answers. Who may
call the API: `evbackoffice.api_permissions`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, pagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context) -> Response | None:
    """Maps model validation and constraint errors to 400 so that bad input never becomes a 500."""
    if isinstance(exc, DjangoValidationError):
        detail = as_serializer_error(exc)
        if "__all__" in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"non_field_errors": ["This change conflicts with existing data."]})
    return drf_exception_handler(exc, context)
