"""Tariffs as stored (billing.models.Tariff and its elements): conversion to the pricing engine and OCPI,
writes from OCPI documents, the plain-language summary, assignments and which tariff prices a session.

Selection rule (`tariff_for_session`)
-------------------------------------
Only assignments valid at the session's start count (valid_from <= at < valid_until), and only for a tariff
that is itself in force then. Among those that cover the connector (the connector itself, its charge point,
its location, or the whole network):

1. An assignment for one of the customer's groups wins over one for everyone, at any level: a fleet deal
   for the whole network beats a location's public price.
2. Then the most specific scope wins: connector > charge point > location > whole network.
3. Ties can only come from a customer in two groups with assignments at the same level (assignments for the
   same scope and group never overlap: `tariff_assign` refuses that). They are broken deterministically
   rather than refused, because group membership changes after assignments are made: the assignment that
   started last wins (the newer deal), then the group whose name sorts first, then the older assignment.

No assignment: None (the caller decides; a session without a tariff is flagged for review, not free).

Assignments (`tariff_assign`) are refused, with a message naming the conflicting one, when they overlap in
time another for the same scope object and the same group (None = everyone); and when they are contradictory:
more than one scope, an end not after the start, a period the tariff's own validity does not cover, or a
currency different from a tariff assigned to the same place at the same time (one place, one currency).
"""

from .assignments import (
    describe_assignment,
    tariff_assign,
    tariff_assignment_check,
    tariff_assignment_delete,
    tariff_assignment_end,
    tariff_assignment_update,
    tariff_for_session,
)
from .convert import pricing_tariff_from_rows, tariff_to_ocpi_document, tariff_to_pricing
from .services import tariff_create_from_ocpi, tariff_delete, tariff_duplicate, tariff_update_from_ocpi
from .summary import tariff_summary, tariff_summary_lines

__all__ = [
    "describe_assignment", "pricing_tariff_from_rows", "tariff_assign", "tariff_assignment_check",
    "tariff_assignment_delete", "tariff_assignment_end", "tariff_assignment_update", "tariff_create_from_ocpi",
    "tariff_delete", "tariff_duplicate", "tariff_for_session", "tariff_summary", "tariff_summary_lines",
    "tariff_to_ocpi_document", "tariff_to_pricing", "tariff_update_from_ocpi",
]  # fmt: skip
