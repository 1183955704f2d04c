"""The privacy page: download one's data as JSON, and (account holder or fleet manager) close the account and
have its personal data erased. What is erased, kept and when: customers/privacy.py."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from customers.models import AccountDeletionRequest
from customers.portal.access import customer_required, manager_required, sees_whole_account
from customers.privacy import account_deletion_process, account_deletion_request, customer_data_export, still_owed

from .forms import DeletionForm


def _page(request: HttpRequest, form: DeletionForm | None, status: int = 200) -> HttpResponse:
    customer = request.user.customer
    whole = sees_whole_account(request.user)
    pending = customer.deletion_requests.filter(state=AccountDeletionRequest.State.REQUESTED).first()
    return render(request, "portal/account/privacy.html", {
        "customer": customer, "whole_account": whole, "pending": pending,
        "waiting_for": still_owed(customer) if pending is not None else [],
        "form": form if whole and pending is None else None,
    }, status=status)


@customer_required
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return _page(request, DeletionForm(user=request.user))


@customer_required
@require_GET
@never_cache
def privacy_export(request: HttpRequest) -> HttpResponse:
    data = customer_data_export(user=request.user)
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    filename = f"evbackoffice-data-{request.user.customer.number}-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@manager_required
@require_http_methods(["POST"])
def privacy_delete(request: HttpRequest) -> HttpResponse:
    form = DeletionForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    deletion = account_deletion_request(customer=request.user.customer, requested_by=request.user)
    if account_deletion_process(deletion=deletion):
        logout(request)
        messages.success(request, _("Your account is closed and your personal data is erased. Goodbye!"))
        return redirect("home")
    messages.success(request, _("Your account is closed and your cards are blocked. We erase your personal data "
                                "as soon as nothing is owed any more; this page shows what is still open."))
    return redirect("portal:privacy")
