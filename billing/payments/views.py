"""The provider's webhook endpoint: a transport adapter (verify, hand over, answer)."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .providers import InvalidWebhook, ProviderUnavailable, get_provider
from .webhooks import webhook_event_process


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """200 for an event handled now or before; 400 for a bad signature. Any other error is a 500, so that Stripe
    delivers the event again later."""
    try:
        provider = get_provider("stripe")
        event = provider.parse_webhook(payload=request.body, signature_header=request.headers.get("Stripe-Signature"))
    except (InvalidWebhook, ProviderUnavailable):
        return HttpResponseBadRequest("invalid signature")
    webhook_event_process(provider="stripe", event=event)
    return HttpResponse("ok")
