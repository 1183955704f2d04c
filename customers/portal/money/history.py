"""The session history: every session the signed-in user may see (their own cards' in a fleet, the whole
account otherwise), newest first, filtered by month and card, with its price, and the same list as CSV."""

import csv
from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from billing.portal_selectors import session_row, sessions_priced
from customers.portal.access import customer_required, visible_sessions, visible_tokens

from .common import duration_text, page_of, query_without_page

PRICE_STATES = {
    "charging": gettext_lazy("charging now"),
    "review": gettext_lazy("under review"),
    "pricing": gettext_lazy("being priced"),
    "credited": gettext_lazy("cancelled (credited)"),
}


class SessionFilterForm(forms.Form):
    month = forms.CharField(
        required=False, label=gettext_lazy("Month"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
    )
    card = forms.ModelChoiceField(queryset=None, required=False, label=gettext_lazy("Card"),
                                  empty_label=gettext_lazy("All cards"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the user's visible cards are choices: another account's card id is an invalid choice, not a filter.
        self.fields["card"].queryset = visible_tokens(user).order_by("label", "visual_number", "uid")
        self.fields["card"].label_from_instance = card_label

    def clean_month(self) -> date | None:
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        try:
            year, month = (int(part) for part in text.split("-"))
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, for example 2026-06.")) from None


def card_label(token) -> str:
    number = token.visual_number or token.uid
    return f"{token.label} ({number})" if token.label else number


def _filtered(request: HttpRequest):
    """The bound filter form and the rows it selects (None when the filter is invalid)."""
    form = SessionFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    card = data.get("card")
    return form, sessions_priced(visible_sessions(request.user), month=data.get("month"),
                                 token_id=card.pk if card else None)


@require_GET
@customer_required
def session_list(request: HttpRequest) -> HttpResponse:
    form, sessions = _filtered(request)
    if sessions is None:
        return render(request, "portal/money/sessions.html", {"form": form}, status=400)
    page = page_of(request, sessions)
    return render(request, "portal/money/sessions.html", {
        "form": form,
        "page": page,
        "rows": [(row, duration_text(row.duration_s), PRICE_STATES.get(row.price_state, ""))
                 for row in map(session_row, page)],
        "query": query_without_page(request),
    })


@require_GET
@customer_required
def session_csv(request: HttpRequest) -> HttpResponse:
    form, sessions = _filtered(request)
    if sessions is None:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    month = form.cleaned_data.get("month") if form.is_bound else None
    name = f"sessions-{month:%Y-%m}.csv" if month else "sessions.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # spreadsheet programs read the file as UTF-8 with this mark
    writer = csv.writer(response)
    writer.writerow([_("Start (local time)"), _("End (local time)"), _("Location"), _("Charging point"), _("Card"),
                     _("Energy (kWh)"), _("Duration (minutes)"), _("Price incl. VAT"), _("Currency"), _("Status")])
    for session in sessions.iterator(chunk_size=500):
        writer.writerow(_csv_line(session_row(session)))
    return response


def _csv_line(row) -> list:
    session, zone = row.session, row.started_local.tzinfo
    return [
        row.started_local.isoformat(timespec="seconds"),
        session.stopped_at.astimezone(zone).isoformat(timespec="seconds") if session.stopped_at else "",
        row.location_name,
        session.evse.evse_id,
        card_label(session.id_token) if session.id_token else session.id_tag,
        "" if row.energy_kwh is None else str(row.energy_kwh),
        "" if row.duration_s is None else round(row.duration_s / 60),
        "" if row.price is None else str(row.price.amount),
        "" if row.price is None else str(row.price.currency),
        _("priced") if row.price_state == "priced" else str(PRICE_STATES[row.price_state]),
    ]


urlpatterns = [
    path("sessions/", session_list, name="sessions"),
    path("sessions.csv", session_csv, name="sessions-csv"),
]
