"""The receipt of an ad-hoc session: a simplified invoice (EU VAT Directive art. 226b: supplier, date, number,
what was supplied, the amount incl. VAT and the VAT rate), numbered `RCPT-2026-000001` from its own gapless
series, frozen as a snapshot when issued, and rendered to PDF on request with the invoices' WeasyPrint setup.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from billing.models import AdHocSession, NumberSeries, OperatorProfile

PREFIX = "RCPT"
TEMPLATE = "billing/adhoc/receipt.html"

logger = logging.getLogger(__name__)


def receipt_number_take(*, year: int) -> str:
    """The next receipt number; as invoice numbers (billing.invoicing.numbering), the counter row is locked by
    the issuing transaction, so a rolled-back receipt gives its number back."""
    NumberSeries.objects.bulk_create([NumberSeries(prefix=PREFIX, year=year)], ignore_conflicts=True)
    series = NumberSeries.objects.select_for_update(of=("self",)).get(prefix=PREFIX, year=year)
    series.last_number += 1
    series.save(update_fields=["last_number"])
    return f"{PREFIX}-{year}-{series.last_number:06d}"


def receipt_issue(*, adhoc: AdHocSession) -> None:
    """Number and freeze the receipt of a settled session (inside the settling transaction; the caller saves),
    and e-mail it after commit when the guest gave an address."""
    from billing.invoicing.services import supplier_snapshot

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("receipt_issue runs inside the transaction that settles the session")
    if adhoc.receipt_number:
        return
    operator = OperatorProfile.objects.first()
    if operator is None:
        logger.error("Ad-hoc %s: no operator profile, so no receipt can be issued", adhoc.uuid)
        return
    issued = timezone.localtime(timezone.now(), ZoneInfo(settings.BILLING_TIME_ZONE))
    cdr = adhoc.cdr
    adhoc.receipt_number = receipt_number_take(year=issued.year)
    adhoc.receipt_snapshot = {
        "supplier": supplier_snapshot(operator),
        "issued_at": issued.isoformat(),
        "location": cdr.location_snapshot.get("name", "") if isinstance(cdr.location_snapshot, dict) else "",
        "address": _address(cdr.location_snapshot),
        "evse_id": str(adhoc.evse),
        # In the location's time, as the guest saw the clock at the charger.
        "start": timezone.localtime(cdr.start_date_time, adhoc.evse.charge_point.location.tzinfo).isoformat(),
        "end": timezone.localtime(cdr.end_date_time, adhoc.evse.charge_point.location.tzinfo).isoformat(),
        "energy_kwh": f"{cdr.total_energy_wh / 1000:.3f}",
        "duration_min": round(cdr.total_time_s / 60),
        "currency": adhoc.currency,
        "total_incl_vat": str(adhoc.total_incl_vat),
        "total_excl_vat": str(cdr.total_cost_excl_vat.quantize(adhoc.total_incl_vat)),
        "vat": [{"rate": line["rate"], "vat": line["vat"], "incl_vat": line["incl_vat"]}
                for line in cdr.vat_breakdown],
        "paid": str(adhoc.captured_amount),
        "shortfall": str(adhoc.shortfall),
    }
    if adhoc.email:
        adhoc_id = adhoc.pk
        transaction.on_commit(lambda: receipt_send_later(adhoc_id))


def _address(location: dict) -> str:
    if not isinstance(location, dict):
        return ""
    return ", ".join(part for part in (location.get("address"), location.get("postal_code"), location.get("city"))
                     if part)


def receipt_send_later(adhoc_id: int) -> None:
    from .tasks import adhoc_send_receipt

    adhoc_send_receipt.delay(adhoc_id)


def receipt_language(language: str | None) -> str:
    """One of LANGUAGES ("de-at" -> "de"), else the default: what the receipt of a session is written in."""
    codes = {code for code, _ in settings.LANGUAGES}
    language = (language or "").lower()
    if language in codes:
        return language
    return language[:2] if language[:2] in codes else settings.LANGUAGE_CODE


def receipt_pdf(adhoc: AdHocSession) -> bytes:
    """The receipt in the language of the page the guest paid on, whoever downloads or mails it."""
    from billing.invoicing.pdf import html_to_pdf

    with translation.override(receipt_language(adhoc.language)):
        html = render_to_string(TEMPLATE, receipt_context(adhoc))
    return html_to_pdf(html)


def _amount(value) -> str:
    """Rounded to cents first (number_format would cut), then in the active language's format."""
    return formats.number_format(Decimal(f"{Decimal(str(value)):.2f}"), decimal_pos=2)


#: How the receipt prints a moment and a time of day, per language (Django date format syntax); English keeps
#: ISO dates, German the usual 23.11.2026 14:05.
MOMENT_FORMATS = {"de": ("d.m.Y H:i", "H:i")}
DEFAULT_MOMENT_FORMATS = ("Y-m-d H:i", "H:i")


def _moment(value: str, *, time_only: bool = False) -> str:
    """A frozen local time as printed in the active language (the `date` filter would convert its zone)."""
    with_date, time = MOMENT_FORMATS.get(translation.get_language() or "", DEFAULT_MOMENT_FORMATS)
    return formats.date_format(datetime.fromisoformat(value), time if time_only else with_date)


def receipt_context(adhoc: AdHocSession) -> dict:
    """Dates and amounts as printed strings in the active language (callers override it with the receipt's),
    dates in the zones frozen in the snapshot."""
    snap = adhoc.receipt_snapshot
    vat_lines = [{"rate": f"{formats.number_format(Decimal(str(line['rate'])).normalize())} %"
                          if line["rate"] is not None else gettext("exempt"),
                  "vat": _amount(line["vat"]), "incl_vat": _amount(line["incl_vat"])}
                 for line in snap.get("vat", [])]
    amounts = {name: _amount(snap[name]) for name in ("total_incl_vat", "total_excl_vat", "paid", "shortfall")
               if snap.get(name) not in (None, "", "None")}
    return {"number": adhoc.receipt_number, "s": snap, "vat_lines": vat_lines, "amounts": amounts,
            "energy_kwh": formats.number_format(Decimal(f"{Decimal(str(snap['energy_kwh'])):.3f}"), decimal_pos=3),
            "issued": _moment(snap["issued_at"]),
            "start": _moment(snap["start"]),
            "end": _moment(snap["end"], time_only=True),
            "shortfall": Decimal(snap["shortfall"]) > 0}


def receipt_send(*, adhoc: AdHocSession) -> bool:
    """E-mail the receipt PDF once (receipt_sent_at marks it); False when there is nothing (more) to send."""
    if not (adhoc.email and adhoc.receipt_number) or adhoc.receipt_sent_at:
        return False
    with translation.override(receipt_language(adhoc.language)):
        subject = gettext("Your charging receipt %(number)s") % {"number": adhoc.receipt_number}
        body = render_to_string("billing/adhoc/receipt_email.txt", receipt_context(adhoc))
    message = EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[adhoc.email])
    message.attach(f"{adhoc.receipt_number}.pdf", receipt_pdf(adhoc), "application/pdf")
    message.send()
    AdHocSession.objects.filter(pk=adhoc.pk).update(receipt_sent_at=timezone.now())
    return True
