"""Public pages of ad-hoc charging (no login): the EVSE's price page and its QR code, starting with a card,
the status the page polls, and the receipt. Transport only: services and selectors do the work; a domain error
is a 4xx with a message the page shows. The AdHocSession's random uuid is the guest's only key."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_noop
from django.views.decorators.http import require_GET, require_POST

from billing.models import AdHocSession
from billing.payments.providers import ProviderError, ProviderUnavailable
from billing.tariffs.public import public_price
from stations.models import Evse

from .receipts import receipt_pdf
from .selectors import adhoc_status, evse_offer
from .services import AdHocError, adhoc_session_confirm, adhoc_session_start

UNAVAILABLE = gettext_noop("Card payments are unavailable right now; please try again.")


def _offer_or_404(evse_id: str):
    try:
        return evse_offer(evse_id)
    except Evse.DoesNotExist:
        raise Http404(gettext("No such charging point.")) from None


@require_GET
def charge_page(request: HttpRequest, evse_id: str) -> HttpResponse:
    offer = _offer_or_404(evse_id)
    # The same QR code serves drivers with an account: they start with their card or the app in the portal.
    portal_url = reverse("portal:start", args=[offer.evse.evse_id])
    # The price in the reader's language (the page follows the browser's, or the one picked on the page).
    price = public_price(offer.tariff, time_zone=offer.evse.charge_point.location.time_zone,
                         at=timezone.now()) if offer.tariff else None
    return render(request, "billing/adhoc/page.html", {
        "offer": offer, "price": price,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY, "stripe_js_url": settings.STRIPE_JS_URL,
        "start_url": reverse("adhoc:start", args=[offer.evse.evse_id]),
        "portal_start_url": portal_url if request.user.is_authenticated else None,
        "sign_in_url": f"{reverse('account_login')}?{urlencode({'next': portal_url})}",
    })


@require_GET
def charge_qr(request: HttpRequest, evse_id: str) -> HttpResponse:
    """The QR code staff print on the EVSE: the page's absolute URL (ADHOC_PUBLIC_BASE_URL when set, since the
    admin may be reached under another host name than the public one)."""
    import io

    import segno

    offer = _offer_or_404(evse_id)
    url = page_url(request, offer.evse.evse_id)
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, title=url)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


def page_url(request: HttpRequest, evse_id: str) -> str:
    path = reverse("adhoc:page", args=[evse_id])
    base = settings.ADHOC_PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


@require_POST
def charge_start(request: HttpRequest, evse_id: str) -> JsonResponse:
    """`payment_method` (the PaymentMethod id Stripe.js made from the card) and optional `email`, as a form
    or JSON. 201 with the session's links; `client_secret` when the card asks for 3-D Secure."""
    offer = _offer_or_404(evse_id)
    data = _body(request)
    method = str(data.get("payment_method") or "").strip()
    if not method.startswith("pm_"):
        return JsonResponse({"error": gettext("A card is needed.")}, status=400)
    email = str(data.get("email") or "").strip()[:254]
    try:
        # The page's language (LocaleMiddleware: the driver's choice or the browser's) is the receipt's.
        adhoc, client_secret = adhoc_session_start(evse=offer.evse, payment_method_id=method, email=email,
                                                   language=get_language() or settings.LANGUAGE_CODE)
    except AdHocError as exc:
        return JsonResponse({"error": gettext(exc.message)}, status=exc.status)
    except ProviderUnavailable:
        return JsonResponse({"error": gettext(UNAVAILABLE)}, status=503)
    return JsonResponse({**_links(adhoc), **_status(adhoc), "client_secret": client_secret or None},
                        status=201)


@require_POST
def adhoc_confirmed(request: HttpRequest, uuid) -> JsonResponse:
    adhoc = get_object_or_404(AdHocSession, uuid=uuid)
    try:
        adhoc = adhoc_session_confirm(adhoc=adhoc)
    except ProviderUnavailable:
        return JsonResponse({"error": gettext(UNAVAILABLE)}, status=503)
    except ProviderError as exc:
        return JsonResponse({"error": exc.message}, status=409)
    return JsonResponse({**_links(adhoc), **_status(adhoc)})


@require_GET
def adhoc_status_json(request: HttpRequest, uuid) -> JsonResponse:
    adhoc = get_object_or_404(AdHocSession.objects.select_related("charging_session", "start_command"), uuid=uuid)
    return JsonResponse({**_links(adhoc), **_status(adhoc)})


@require_GET
def adhoc_receipt(request: HttpRequest, uuid) -> HttpResponse:
    adhoc = get_object_or_404(AdHocSession, uuid=uuid, receipt_number__isnull=False)
    response = HttpResponse(receipt_pdf(adhoc), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{adhoc.receipt_number}.pdf"'
    return response


def _status(adhoc: AdHocSession) -> dict:
    """The status in the reader's language: the state's label is translated by the model's choices; a failure
    the services stored in English (marked with gettext_noop there) is translated here. A provider's own message
    (the card issuer's refusal) stays as the provider wrote it."""
    status = adhoc_status(adhoc)
    if status.get("failure"):
        status["failure"] = gettext(status["failure"])
    return status


def _links(adhoc: AdHocSession) -> dict:
    return {
        "id": str(adhoc.uuid),
        "status_url": reverse("adhoc:status", args=[adhoc.uuid]),
        "confirmed_url": reverse("adhoc:confirmed", args=[adhoc.uuid]),
        "receipt_url": reverse("adhoc:receipt", args=[adhoc.uuid]) if adhoc.receipt_number else None,
    }


def _body(request: HttpRequest) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST
