"""Building blocks for the dashboard and station view tests: finished sessions and their charge records."""

from datetime import datetime, timedelta
from decimal import Decimal

from billing.models import ChargeDetailRecord
from stations.models import ChargingSession
from tests.factories import ChargingSessionFactory


def finished_session(connector, *, started_at: datetime, minutes: int, energy_wh: int) -> ChargingSession:
    return ChargingSessionFactory(
        connector=connector, started_at=started_at, stopped_at=started_at + timedelta(minutes=minutes),
        meter_start_wh=1_000_000, meter_stop_wh=1_000_000 + energy_wh, state=ChargingSession.State.COMPLETED,
    )


def charge_record(session: ChargingSession, *, incl_vat: str, excl_vat: str, currency: str = "EUR",
                  credit_of: ChargeDetailRecord | None = None) -> ChargeDetailRecord:
    """A record with the figures the dashboard reads; a credit record holds the negated amounts."""
    sign = -1 if credit_of else 1
    return ChargeDetailRecord.objects.create(
        ocpi_id=f"T{session.pk}{'C' if credit_of else ''}", session=session, customer=session.customer,
        kind=ChargeDetailRecord.Kind.CREDIT if credit_of else ChargeDetailRecord.Kind.CHARGE,
        credited_record=credit_of, token_uid=session.id_tag, location=session.charge_point.location,
        location_snapshot={}, charge_point_identity=session.charge_point.identity,
        transaction_id=session.transaction_id, tariff_snapshot={}, currency=currency,
        start_date_time=session.started_at, end_date_time=session.stopped_at,
        total_energy_wh=sign * session.energy_wh, total_time_s=session.duration_s, total_parking_time_s=0,
        charging_periods=[], tariff_cost_excl_vat=sign * Decimal(excl_vat),
        tariff_cost_incl_vat=sign * Decimal(incl_vat), total_cost_excl_vat=sign * Decimal(excl_vat),
        total_cost_incl_vat=sign * Decimal(incl_vat),
    )
