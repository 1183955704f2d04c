"""Charge detail records: rating stopped sessions (`cdr_create_for_session`), credits and corrections, the OCPI
2.2.1 CDR form, and the reads behind the API and admin.

    session_facts(session)                       # meter values -> pricing.SessionFacts (or SessionFactsError)
    cdr_create_for_session(session_id=...)       # idempotent; flags the session for review when it can't price
    cdr_credit(cdr=..., reason=...)              # credit record with negated amounts
    cdr_correct(cdr=..., reason=..., tariff=...) # credit + re-rated record that replaces it
    session_reprice(session_id=...)              # a flagged session rated again after staff fixed the cause
    cdr_to_ocpi(cdr)                             # OCPI CDR object

Modules: `facts` (which meter values count), `rating`, `review`, `corrections`, `ocpi`, `selectors`.
"""

from .corrections import cdr_correct, cdr_credit
from .facts import session_facts
from .ocpi import cdr_to_ocpi, location_snapshot
from .rating import RatingRefused, cdr_create_for_session, session_rating
from .review import Repricing, session_flag_for_review, session_reprice
from .selectors import cdr_list, sessions_to_rate

__all__ = [
    "RatingRefused", "Repricing", "cdr_correct", "cdr_create_for_session", "cdr_credit", "cdr_list", "cdr_to_ocpi",
    "location_snapshot", "session_facts", "session_flag_for_review", "session_rating", "session_reprice",
    "sessions_to_rate",
]  # fmt: skip
