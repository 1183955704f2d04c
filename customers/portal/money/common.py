"""Small helpers the money pages share: paging, whether card payments are configured, and the provider's
failures in words a driver understands."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _

from billing.payments.providers import PaymentDeclined, ProviderError, ProviderUnavailable

PAGE_SIZE = 25


def page_of(request: HttpRequest, items, size: int = PAGE_SIZE) -> Page:
    """The requested page; a missing, malformed or too large page number gives the nearest valid page."""
    return Paginator(items, size).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def cards_configured() -> bool:
    """Saving cards needs both Stripe keys: the secret one for the server, the publishable one for Stripe.js."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def provider_trouble(error: Exception) -> str:
    """What to tell the driver when the payment provider refused or could not be reached."""
    if isinstance(error, ProviderUnavailable):
        return _("The payment service cannot be reached right now. Nothing was changed; please try again in a "
                 "few minutes.")
    if isinstance(error, PaymentDeclined):
        return _("Your bank declined the card: %(reason)s") % {"reason": error.message}
    if isinstance(error, ProviderError):
        return _("The payment service refused the request: %(reason)s") % {"reason": error.message}
    return _("Something went wrong with the payment service. Nothing was changed; please try again.")


def duration_text(seconds: int | None) -> str:
    """A session's length as a driver reads it: "45 min", "2 h 05 min"."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60, "minutes": minutes % 60}
