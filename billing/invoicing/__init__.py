"""Invoicing: drafting a customer's invoices for a billing period, issuing them with gapless numbers, credit
notes, closing periods on a schedule, and the state accountants see.

    invoice_draft_for_period(customer=c, period_start=d1, period_end=d2)  # [Invoice] drafts, idempotent
    invoice_issue(invoice=inv, issue_date=None)                           # draft -> issued, INV-2026-000123
    credit_note_issue(invoice=inv, reason="...", lines=None | {line_id: Decimal})   # CN-2026-000007
    billing_period_close(period_start=d1, period_end=d2, customers=None)  # -> how many invoices were made
    invoice_status(inv)                                                   # draft/issued/paid/overdue/credited

Rules where the issue leaves a choice are in the modules' docstrings: `periods` (billing time zone, which
period closes when), `drafting` (which records and lines), `vat` (categories, reverse charge, rounding),
`numbering` (gapless series), `credit_notes` (full and partial).

Modules: `periods`, `vat`, `numbering`, `drafting`, `services`, `credit_notes`, `selectors`, `tasks`
(Celery: `billing.close_billing_period`, `billing.close_customer_period`). PDF rendering is `rendering`, `pdf`
and `facturx`; e-mailing the rendered document to the customer is `emailing` (`billing.send_invoice_email`).
"""

from .credit_notes import credit_note_issue, line_amounts_open
from .drafting import invoice_draft_for_period
from .periods import billing_today, month_period, periods_ending
from .selectors import STATUSES, invoice_status, invoices_filter_status, invoices_with_credit_state
from .services import (
    billing_period_close,
    billing_period_close_invoices,
    billing_periods_close_ending,
    customer_period_close,
    customers_to_bill,
    invoice_draft_update_totals,
    invoice_issue,
)

__all__ = [
    "STATUSES", "billing_period_close", "billing_period_close_invoices", "billing_periods_close_ending",
    "billing_today", "credit_note_issue", "customer_period_close", "customers_to_bill", "invoice_draft_for_period",
    "invoice_draft_update_totals", "invoice_issue", "invoice_status", "invoices_filter_status",
    "invoices_with_credit_state", "line_amounts_open", "month_period", "periods_ending",
]  # fmt: skip
