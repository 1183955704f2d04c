"""Credit notes: the only way to correct an issued invoice. A full credit note negates what is left of every
line; a partial one credits chosen amounts of chosen lines, never more than what is left uncredited on a line.
Each has its own number in the CN series and references the invoice and, line by line, the lines it corrects."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from billing.models import Invoice, InvoiceLine

from .services import invoice_issue

DESCRIPTION_LENGTH = InvoiceLine._meta.get_field("description").max_length
EXACT = Decimal("0.000001")


def line_amounts_open(invoice: Invoice) -> dict[int, Decimal]:
    """Per line id of an invoice: its net amount less what issued credit notes have credited of it."""
    credited = dict(
        InvoiceLine.objects.filter(credited_line__invoice=invoice, invoice__status=Invoice.Status.ISSUED)
        .values_list("credited_line").annotate(total=Sum("net_amount")).values_list("credited_line", "total")
    )
    return {line.pk: line.net_amount + credited.get(line.pk, Decimal(0)) for line in invoice.lines.all()}


def credit_note_issue(*, invoice: Invoice, reason: str, lines: dict[int, Decimal] | None = None) -> Invoice:
    """Issue a credit note for an issued invoice. `lines` None: everything not yet credited; else line id ->
    net amount excl. VAT to credit (positive, at most what is left of that line). Returns the issued note."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is credited."})
    with transaction.atomic():
        # Locking the invoice serialises its credit notes, so two cannot both credit what is left.
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.kind != Invoice.Kind.INVOICE or not invoice.is_issued:
            raise ValidationError(f"Only an issued invoice is credited, not {invoice}.")
        open_amounts = line_amounts_open(invoice)
        wanted = _wanted(open_amounts, lines) if lines is not None else {
            pk: amount for pk, amount in open_amounts.items() if amount != 0
        }
        if not wanted:
            raise ValidationError(f"{invoice} is already fully credited.")
        note = Invoice.objects.create(
            kind=Invoice.Kind.CREDIT_NOTE, customer_id=invoice.customer_id, currency=invoice.currency,
            period_start=invoice.period_start, period_end=invoice.period_end, credited_invoice=invoice,
            reason=reason, notes=f"Credit note for invoice {invoice.number}: {reason}",
        )
        originals = {line.pk: line for line in invoice.lines.filter(pk__in=wanted)}
        InvoiceLine.objects.bulk_create([
            _correction(note, position, originals[pk], wanted[pk], open_amounts[pk])
            for position, pk in enumerate(sorted(wanted, key=lambda pk: originals[pk].position), start=1)
        ])  # fmt: skip
        return invoice_issue(invoice=note)


def _wanted(open_amounts: dict[int, Decimal], lines: dict[int, Decimal]) -> dict[int, Decimal]:
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for line_id, amount in lines.items():
        amount = Decimal(amount)
        if int(line_id) not in open_amounts:
            raise ValidationError(f"Line {line_id} is not a line of this invoice.")
        if amount <= 0 or amount != amount.quantize(EXACT):
            raise ValidationError(f"Credit a positive amount (at most 6 decimals) of line {line_id}, not {amount}.")
        wanted[int(line_id)] += amount
    for line_id, amount in wanted.items():
        left = open_amounts[line_id]
        if left <= 0:
            raise ValidationError(
                f"Line {line_id} has nothing left to credit (a line that is itself a credit is credited in full)."
            )
        if amount > left:
            raise ValidationError(f"Line {line_id} has {left.normalize():f} left to credit, less than {amount}.")
    return dict(wanted)


def _correction(note: Invoice, position: int, line: InvoiceLine, amount: Decimal, left: Decimal) -> InvoiceLine:
    """A line negating `amount` of `line`: its quantity negated when it is credited whole and untouched, else
    one unit of the amount, so that net = quantity x unit price - discount holds either way."""
    whole = amount == left == line.net_amount
    return InvoiceLine(
        invoice=note, position=position, kind=InvoiceLine.Kind.CORRECTION, credited_line=line,
        description=f"Correction of line {line.position}: {line.description}"[:DESCRIPTION_LENGTH],
        service_start=line.service_start, service_end=line.service_end, cdr_id=line.cdr_id,
        membership_id=line.membership_id, energy_wh=line.energy_wh if whole else None,
        duration_s=line.duration_s if whole else None,
        quantity=-line.quantity if whole else Decimal(-1), unit=line.unit,
        unit_price_excl_vat=line.unit_price_excl_vat if whole else amount,
        discount_excl_vat=-line.discount_excl_vat if whole else Decimal(0), net_amount=-amount,
        vat_category=line.vat_category, vat_rate=line.vat_rate,
    )
