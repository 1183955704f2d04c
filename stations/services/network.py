"""Writes to the network's equipment (locations, charge points, EVSEs, connectors), each run through full_clean().

Errors about nested EVSEs and connectors carry dotted paths such as ``evses.1.evse_id`` (indexes into the
caller's lists), so the API can point at the entry at fault.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from stations.models import ChargePoint, Connector, Evse, Location, always_open

# An EVSE spec is a mapping of Evse fields plus an optional "connectors" list of Connector field mappings.
EvseSpec = Mapping[str, Any]


def _validate_and_save(obj: models.Model, *, path: str = "") -> None:
    """full_clean() then save(); for nested objects the error keys are prefixed with their path."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        if not path:
            raise
        raise ValidationError({f"{path}.{field}": messages for field, messages in exc.message_dict.items()}) from None
    obj.save()


def _assign(obj: models.Model, data: Mapping[str, Any]) -> None:
    for field, value in data.items():
        setattr(obj, field, value)


@transaction.atomic
def location_create(
    *,
    code: str,
    name: str,
    address: str,
    postal_code: str,
    city: str,
    country: str,
    latitude: Decimal,
    longitude: Decimal,
    time_zone: str,
    opening_hours: dict | None = None,
    is_published: bool = True,
) -> Location:
    location = Location(
        code=code, name=name, address=address, postal_code=postal_code, city=city, country=country,
        latitude=latitude, longitude=longitude, time_zone=time_zone,
        opening_hours=always_open() if opening_hours is None else opening_hours, is_published=is_published,
    )
    _validate_and_save(location)
    return location


@transaction.atomic
def location_update(*, location: Location, data: Mapping[str, Any]) -> Location:
    _assign(location, data)
    _validate_and_save(location)
    return location


@transaction.atomic
def charge_point_create(
    *,
    identity: str,
    location: Location | None = None,
    ocpp_version: str = ChargePoint.OcppVersion.V16,
    security_profile: int = ChargePoint.SecurityProfile.BASIC,
    registration_status: str = ChargePoint.RegistrationStatus.PENDING,
    password: str = "",
    evses: Sequence[EvseSpec] = (),
    **description: str,
) -> ChargePoint:
    """Registers a station with its EVSEs and their connectors, all or nothing.

    ``description`` takes what the station also reports about itself (vendor, model, serial_number,
    firmware_version, iccid, imsi, meter_type, meter_serial_number), known before it first connects.
    """
    charge_point = ChargePoint(
        location=location, identity=identity, ocpp_version=ocpp_version, security_profile=security_profile,
        registration_status=registration_status, **description,
    )
    if password:
        charge_point.set_password(password)
    _validate_and_save(charge_point)
    _evses_upsert(charge_point=charge_point, evses=evses)
    return charge_point


@transaction.atomic
def charge_point_update(
    *,
    charge_point: ChargePoint,
    data: Mapping[str, Any],
    password: str = "",
    evses: Sequence[EvseSpec] | None = None,
) -> ChargePoint:
    """Changes a station's own fields; a password replaces the old one, an empty one keeps it.

    With ``evses`` given, each is matched to an existing EVSE by ``ocpp_evse_id`` (and each connector by
    ``ocpp_connector_id``) and updated, or created when new. EVSEs and connectors left out are kept: their
    charging sessions refer to them, so removing equipment is a deliberate act elsewhere.
    """
    _assign(charge_point, data)
    if password:
        charge_point.set_password(password)
    _validate_and_save(charge_point)
    if evses is not None:
        _evses_upsert(charge_point=charge_point, evses=evses)
    return charge_point


def _evses_upsert(*, charge_point: ChargePoint, evses: Sequence[EvseSpec]) -> None:
    _reject_repeated_keys(evses, key="ocpp_evse_id", path="evses")
    existing = {evse.ocpp_evse_id: evse for evse in charge_point.evses.all()}
    for index, spec in enumerate(evses):
        fields = dict(spec)
        connectors = fields.pop("connectors", ())
        path = f"evses.{index}"
        _reject_repeated_keys(connectors, key="ocpp_connector_id", path=f"{path}.connectors", default=1)
        evse = existing.get(fields.get("ocpp_evse_id")) or Evse(charge_point=charge_point)
        _assign(evse, fields)
        _validate_and_save(evse, path=path)
        _connectors_upsert(evse=evse, connectors=connectors, path=f"{path}.connectors")


def _connectors_upsert(*, evse: Evse, connectors: Sequence[Mapping[str, Any]], path: str) -> None:
    existing = {connector.ocpp_connector_id: connector for connector in evse.connectors.all()}
    for index, spec in enumerate(connectors):
        # A connector without an id is the EVSE's first (and, in OCPP 1.6, only) connector.
        connector = existing.get(spec.get("ocpp_connector_id", 1)) or Connector(evse=evse)
        _assign(connector, spec)
        _validate_and_save(connector, path=f"{path}.{index}")


def _reject_repeated_keys(specs: Sequence[Mapping[str, Any]], *, key: str, path: str, default: Any = None) -> None:
    # Within one request a repeated id would silently merge two entries in the upsert; say so instead.
    seen = set()
    for index, spec in enumerate(specs):
        value = spec.get(key, default)
        if value is not None and value in seen:
            raise ValidationError({f"{path}.{index}.{key}": ["This id is given more than once in this request."]})
        seen.add(value)
