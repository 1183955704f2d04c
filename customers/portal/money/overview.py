"""The payments overview: what is open, why a collection failed and what to do about it, the prepaid balance,
the default payment method and the way to everything else about money. Holder or fleet manager only."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.invoicing import billing_today
from billing.loyalty import points_balance
from billing.models import DunningCase, PaymentAccount, PrepaidLedgerEntry
from billing.payments import default_method, prepaid_balance
from billing.portal_selectors import OpenInvoice, membership_current, open_invoices, open_totals
from customers.portal.access import manager_required


def open_situation(row: OpenInvoice, *, prepaid: bool) -> str:
    """Which explanation (and advice) the driver sees for an open invoice."""
    dunning = row.dunning
    if dunning.tokens_blocked:
        return "blocked"
    if dunning.state == DunningCase.State.WRITTEN_OFF:
        return "written_off"
    if dunning.state == DunningCase.State.FAILED:
        return "failed"
    if prepaid and dunning.last_failure:
        return "balance_low"
    due_date = row.invoice.due_date
    if due_date is not None and due_date < billing_today():
        return "overdue"
    return "open"


@require_GET
@manager_required
def money_overview(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    account = PaymentAccount.objects.filter(customer=customer).first()
    prepaid = account is not None and account.is_prepaid
    rows = open_invoices(customer)
    situations = [(row, open_situation(row, prepaid=prepaid)) for row in rows]
    has_ledger = PrepaidLedgerEntry.objects.filter(customer=customer).exists()
    return render(request, "portal/money/overview.html", {
        "customer": customer,
        "account": account,
        "prepaid": prepaid,
        "open_rows": situations,
        "open_totals": open_totals(rows),
        "needs_action": any(situation != "open" for _, situation in situations),
        "balance": prepaid_balance(customer=customer) if prepaid or has_ledger else None,
        "default_method": default_method(customer),
        "membership": membership_current(customer, today=timezone.localdate()),
        "points": points_balance(customer=customer),
    })


urlpatterns = [
    path("payments/", money_overview, name="money"),
]
