"""The invoice admin as staff use it: drafts edited line by line, issuing, an issued invoice read-only, credit
notes from a reason form, closing a period now, and the operator's single profile."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.invoicing import invoice_issue
from billing.models import Invoice, OperatorProfile
from tests.billing.invoice_factories import InvoiceFactory, InvoiceLineFactory, OperatorProfileFactory
from tests.billing.invoicing_helpers import charge_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    OperatorProfileFactory()
    return client


def line_formset(invoice, **changes):
    line = invoice.lines.get()
    data = {
        "notes": "Reviewed", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000", "lines-0-id": str(line.pk), "lines-0-invoice": str(invoice.pk),
        "lines-0-position": "1", "lines-0-kind": "charging", "lines-0-description": line.description,
        "lines-0-quantity": "1", "lines-0-unit": "session", "lines-0-unit_price_excl_vat": "10.00",
        "lines-0-discount_excl_vat": "0", "lines-0-vat_category": "S", "lines-0-vat_rate": "19",
    }
    data.update({f"lines-0-{key}": value for key, value in changes.items()})
    return data


def test_staff_edit_a_draft_line_and_the_totals_follow(staff):
    invoice = InvoiceFactory()
    InvoiceLineFactory(invoice=invoice)

    response = staff.post(reverse("admin:billing_invoice_change", args=[invoice.pk]),
                          line_formset(invoice, quantity="3", discount_excl_vat="2.00"))

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.lines.get().net_amount == Decimal("28.00")
    assert (invoice.total_excl_vat, invoice.total_incl_vat, invoice.notes) == (
        Decimal("28.00"), Decimal("33.32"), "Reviewed"
    )


def test_an_issued_invoice_is_read_only_in_the_admin(staff):
    invoice = InvoiceFactory()
    InvoiceLineFactory(invoice=invoice)
    invoice = invoice_issue(invoice=invoice)

    page = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200 and 'name="notes"' not in page.content.decode()
    assert 'name="lines-0-quantity"' not in page.content.decode()
    change = reverse("admin:billing_invoice_change", args=[invoice.pk])
    response = staff.post(change, line_formset(invoice, quantity="3"))
    assert response.status_code == 403
    invoice.refresh_from_db()
    assert invoice.total_incl_vat == Decimal("11.90") and invoice.notes == ""
    assert staff.post(reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}).status_code == 403


def test_the_issue_action_numbers_the_selected_drafts(staff):
    drafts = [InvoiceFactory() for _ in range(2)]
    for draft in drafts:
        InvoiceLineFactory(invoice=draft)

    response = staff.post(reverse("admin:billing_invoice_changelist"),
                          {"action": "issue_selected", "_selected_action": [d.pk for d in drafts]}, follow=True)

    assert "Issued INV-" in response.content.decode()
    assert set(Invoice.objects.values_list("status", flat=True)) == {"issued"}


def test_a_partial_credit_note_from_the_reason_form(staff):
    invoice = InvoiceFactory()
    line = InvoiceLineFactory(invoice=invoice)
    invoice = invoice_issue(invoice=invoice)
    url = reverse("admin:billing_invoice_credit", args=[invoice.pk])

    too_much = staff.post(url, {"reason": "Goodwill", f"line_{line.pk}": "10.01"})
    assert too_much.status_code == 200 and "left to credit" in too_much.content.decode()
    response = staff.post(url, {"reason": "Goodwill", f"line_{line.pk}": "2.50"})

    note = Invoice.objects.get(kind="credit_note")
    assert response.status_code == 302 and note.total_excl_vat == Decimal("-2.50") and note.reason == "Goodwill"


def test_close_a_period_now_from_the_admin(staff):
    customer = CustomerFactory()
    charge_record(customer, start="2026-06-10T08:00:00+00:00", parts=[("19.000000", "10.00")])
    url = reverse("admin:billing_invoice_close_period")
    assert staff.get(reverse("admin:billing_invoice_changelist")).content.decode().count(url) == 1

    response = staff.post(url, {"period": "2026-06"}, follow=True)

    assert "1 invoices issued" in response.content.decode()
    assert Invoice.objects.get().period_start == date(2026, 6, 1)
    assert "YYYY-MM" in staff.post(url, {"period": "June"}).content.decode()


def test_the_operator_profile_is_one_record(staff):
    profile = OperatorProfile.objects.get()
    response = staff.get(reverse("admin:billing_operatorprofile_changelist"))
    assert response.status_code == 302 and response.url == reverse("admin:billing_operatorprofile_change",
                                                                   args=[profile.pk])
    assert staff.get(reverse("admin:billing_operatorprofile_add")).status_code == 403
