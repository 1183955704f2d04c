"""Ad-hoc charging (AFIR): a guest scans the QR code of an EVSE, sees the full price, pays by card with a hold
(manual capture), the EVSE is remote-started with a one-off token, and when the charge record exists the cost
(at most the hold) is captured, the rest released, and a receipt (simplified invoice, RCPT series) issued.

    adhoc_session_start(evse=e, payment_method_id=pm, email=...)  # -> (AdHocSession, client secret for 3DS)
    adhoc_session_confirm(adhoc=a)                                # after Stripe.js 3DS: authorise and start
    adhoc_session_settle(cdr=c)                                   # capture min(cost, hold); shortfall recorded
    adhoc_session_cancel(adhoc=a, reason=...)                     # release an unused hold
    adhoc_sessions_expire()                                       # beat: holds not started in time

Tasks: `billing.adhoc_settle`, `billing.adhoc_send_receipt`, `billing.adhoc_expire_holds` (beat).
"""

from .services import (
    AdHocError,
    adhoc_guest_customer,
    adhoc_session_cancel,
    adhoc_session_confirm,
    adhoc_session_settle,
    adhoc_session_start,
    adhoc_sessions_expire,
)

__all__ = [
    "AdHocError", "adhoc_guest_customer", "adhoc_session_cancel", "adhoc_session_confirm", "adhoc_session_settle",
    "adhoc_session_start", "adhoc_sessions_expire",
]
