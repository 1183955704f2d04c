"""The prepaid rule on the OCPP hot path: billing decides whether a prepaid customer's balance allows charging,
and is asked only for customers who pay in advance (its query cost more CPU than the rest of an Authorize)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from billing.models import PaymentAccount, PrepaidLedgerEntry
from stations.services.station_reports import id_tag_authorize, transaction_start
from tests.factories import ChargePointFactory, ConnectorFactory, EvseFactory, IdTokenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def station():
    charge_point = ChargePointFactory()
    ConnectorFactory(evse=EvseFactory(charge_point=charge_point, ocpp_evse_id=1))
    return charge_point


def prepaid_token(settings, *, balance: str | None):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    token = IdTokenFactory()
    PaymentAccount.objects.create(customer=token.customer, collection=PaymentAccount.Collection.PREPAID)
    if balance is not None:
        PrepaidLedgerEntry.objects.create(customer=token.customer, kind=PrepaidLedgerEntry.Kind.ADJUSTMENT,
                                          amount=Money(balance, "EUR"))
    return token


def test_a_prepaid_customer_below_the_minimum_is_blocked_at_authorize_and_start(station, settings):
    token = prepaid_token(settings, balance="4.99")

    assert id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid).status == "Blocked"
    started = transaction_start(charge_point_id=station.pk, connector_id=1, connector=None, id_tag=token.uid,
                                meter_start_wh=0, timestamp=timezone.now(), reservation_id=None, events=[])
    assert started.id_tag_info.status == "Blocked"


def test_a_prepaid_customer_at_the_minimum_is_accepted(station, settings):
    token = prepaid_token(settings, balance="5.00")

    assert id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid).status == "Accepted"


def test_a_prepaid_customer_without_any_ledger_entry_is_blocked(station, settings):
    token = prepaid_token(settings, balance=None)

    assert id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid).status == "Blocked"


@pytest.mark.parametrize("collection", [None, PaymentAccount.Collection.CARD, PaymentAccount.Collection.BANK_TRANSFER])
def test_a_customer_who_does_not_pay_in_advance_is_authorized_with_one_query(station, settings, collection):
    settings.PREPAID_MINIMUM_BALANCE = "5.00"
    token = IdTokenFactory()
    if collection is not None:
        PaymentAccount.objects.create(customer=token.customer, collection=collection)

    with CaptureQueriesContext(connection) as queries:
        info = id_tag_authorize(charge_point_id=station.pk, id_tag=token.uid)

    assert info.status == "Accepted"
    assert len(queries) == 1  # the token read; billing's balance query is not run
