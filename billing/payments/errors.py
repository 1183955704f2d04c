"""Payment errors that are the caller's or the customer's to fix: they subclass Django's ValidationError, so
the REST API's one exception handler answers them with 400, never 500."""

from django.core.exceptions import ValidationError


class PaymentError(ValidationError):
    """A payment operation refused for a domain reason (no saved method, nothing to refund, wrong state ...)."""
