"""The portal's start page: what a driver needs first. A session in progress, the last sessions with their
price, and for the account holder or fleet manager what is open, the prepaid balance and the points."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.loyalty import points_balance
from billing.models import PaymentAccount
from billing.payments import prepaid_balance
from billing.portal_selectors import open_invoices, open_totals, session_row, sessions_priced
from customers.models import IdToken
from customers.portal.access import customer_required, sees_whole_account, visible_sessions, visible_tokens
from stations.models import ChargingSession

RECENT_SESSIONS = 3


@require_GET
@customer_required
def portal_home(request: HttpRequest) -> HttpResponse:
    user, customer = request.user, request.user.customer
    sessions = visible_sessions(user)
    active = (sessions.filter(state=ChargingSession.State.ACTIVE)
              .select_related("evse", "charge_point__location").order_by("-started_at"))
    recent = sessions_priced(sessions.filter(state=ChargingSession.State.COMPLETED))[:RECENT_SESSIONS]
    context = {
        "customer": customer,
        "active_sessions": active,
        "recent": [session_row(session) for session in recent],
        "has_cards": visible_tokens(user).exclude(type=IdToken.Type.CENTRAL).exists(),
        "whole_account": sees_whole_account(user),
    }
    if context["whole_account"]:
        account = PaymentAccount.objects.filter(customer=customer).first()
        context |= {
            "open_totals": open_totals(open_invoices(customer)),
            "balance": prepaid_balance(customer=customer) if account is not None and account.is_prepaid else None,
            "points": points_balance(customer=customer),
        }
    return render(request, "portal/home.html", context)
