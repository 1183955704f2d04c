"""The prepaid balance (holder or fleet manager only): the balance (the ledger's sum), its history, and a top-up
charged to a saved card.

A top-up form carries a signed stamp of when it was shown; `prepaid_top_up(once_since=...)` returns the top-up
already made since then instead of charging again, so a double tap or a resubmitted page never charges twice.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from djmoney.money import Money

from billing.models import Payment, PaymentAccount, PrepaidLedgerEntry, SavedPaymentMethod
from billing.payments import prepaid_balance, prepaid_top_up
from billing.payments.providers import ProviderError, ProviderUnavailable
from customers.portal.access import manager_required

from .common import cards_configured, page_of, provider_trouble

TOP_UP_CHOICES = (Decimal(10), Decimal(20), Decimal(50), Decimal(100))
TOP_UP_MIN, TOP_UP_MAX = Decimal(5), Decimal(500)
STAMP_SALT = "portal.top-up"
STAMP_MAX_AGE = timedelta(hours=12)


class TopUpForm(forms.Form):
    choice = forms.ChoiceField(label=gettext_lazy("Amount"), widget=forms.RadioSelect)
    other = forms.DecimalField(
        label=gettext_lazy("Other amount"), required=False, max_digits=8, decimal_places=2, min_value=TOP_UP_MIN,
        max_value=TOP_UP_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "aria-describedby": "other-help"}),
    )
    method = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Card"), empty_label=None)
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        currency = str(customer.currency)
        self.currency = currency
        self.fields["choice"].choices = [
            *((str(amount), str(Money(amount, currency))) for amount in TOP_UP_CHOICES),
            ("other", _("Other amount")),
        ]
        self.fields["choice"].initial = str(TOP_UP_CHOICES[1])
        self.fields["other"].help_text = _("Between %(low)s and %(high)s.") % {
            "low": Money(TOP_UP_MIN, currency), "high": Money(TOP_UP_MAX, currency)}
        # Only this account's cards are choices: another account's method id is an invalid choice.
        methods = SavedPaymentMethod.objects.filter(account__customer=customer).order_by("-is_default", "-created_at")
        self.fields["method"].queryset = methods
        self.fields["stamp"].initial = signing.dumps(timezone.now().timestamp(), salt=STAMP_SALT)

    def clean_stamp(self) -> datetime:
        try:
            shown = signing.loads(self.cleaned_data["stamp"], salt=STAMP_SALT,
                                  max_age=STAMP_MAX_AGE.total_seconds())
        except signing.BadSignature:
            raise ValidationError(_("This form has expired. Please check the amount and try again.")) from None
        return datetime.fromtimestamp(shown, tz=UTC)

    def clean(self):
        data = super().clean()
        if data.get("choice") == "other":
            if data.get("other") is None and "other" not in self.errors:
                self.add_error("other", _("Enter the amount to add."))
            data["amount"] = data.get("other")
        elif data.get("choice"):
            data["amount"] = Decimal(data["choice"])
        return data

    def amount(self) -> Money:
        return Money(self.cleaned_data["amount"], self.currency)


def _context(customer, form: TopUpForm | None, request: HttpRequest) -> dict:
    account = PaymentAccount.objects.filter(customer=customer).first()
    entries = PrepaidLedgerEntry.objects.filter(customer=customer).select_related("invoice").order_by(
        "-created_at", "-pk"
    )
    return {
        "balance": prepaid_balance(customer=customer),
        "minimum": Money(Decimal(settings.PREPAID_MINIMUM_BALANCE), str(customer.currency)),
        "prepaid": account is not None and account.is_prepaid,
        "configured": cards_configured(),
        "page": page_of(request, entries),
        "form": form,
    }


@require_http_methods(["GET", "POST"])
@manager_required
def balance_page(request: HttpRequest) -> HttpResponse:
    customer = request.user.customer
    context = _context(customer, None, request)
    can_top_up = context["prepaid"] and context["configured"]
    if request.method == "GET" or not can_top_up:
        if can_top_up:
            context["form"] = TopUpForm(customer=customer)
        return render(request, "portal/money/balance.html", context, status=200 if request.method == "GET" else 400)
    form = TopUpForm(request.POST, customer=customer)
    if not form.is_valid():
        return render(request, "portal/money/balance.html", {**context, "form": form}, status=400)
    started = timezone.now()
    try:
        payment = prepaid_top_up(customer=customer, amount=form.amount(), method=form.cleaned_data["method"],
                                 once_since=form.cleaned_data["stamp"])
    except ValidationError:
        messages.error(request, _("This card cannot be used for a top-up. Please choose another one."))
    except (ProviderError, ProviderUnavailable) as error:
        messages.error(request, provider_trouble(error))
    else:
        _tell_outcome(request, payment, repeated=payment.created_at < started)
    return redirect("portal:balance")


def _tell_outcome(request: HttpRequest, payment: Payment, *, repeated: bool) -> None:
    amount = {"amount": payment.amount}
    if repeated:
        messages.info(request, _("A top-up of %(amount)s was already made from this page, so nothing was charged "
                                 "again.") % amount)
    elif payment.state == Payment.State.SUCCEEDED:
        messages.success(request, _("%(amount)s was added to your balance.") % amount)
    elif payment.state == Payment.State.FAILED:
        messages.error(request, _("Your bank declined the top-up of %(amount)s: %(reason)s") % {
            **amount, "reason": payment.failure_message or payment.failure_code})
    elif payment.state == Payment.State.REQUIRES_ACTION:
        messages.warning(request, _("Your bank wants to confirm the top-up of %(amount)s, which is not possible "
                                    "here. No money was taken; please use another card.") % amount)
    else:
        messages.info(request, _("The top-up of %(amount)s is being processed. Your balance shows it as soon as "
                                 "your bank confirms it.") % amount)


urlpatterns = [
    path("payments/balance/", balance_page, name="balance"),
]
