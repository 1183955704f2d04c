"""Price feed values from CSV files and the API: all or nothing, per MWh converted, intervals replaced; and
the feed the engine reads."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.feeds import price_feed_for, price_feed_import_csv, price_feed_import_values
from billing.models import PriceFeedValue
from billing.pricing import PriceFeedError
from billing.pricing.local_time import to_us
from tests.billing.factories import PriceFeedFactory, PriceFeedValueFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _stored(feed) -> dict:
    return dict(feed.values.values_list("starts_at", "price_per_kwh"))


def test_a_csv_with_header_and_offsets_in_mwh_is_stored_per_kwh():
    feed = PriceFeedFactory(interval_s=900)
    csv = "start,price\n2026-03-01T01:00:00+01:00,84.12\n2026-03-01T00:15:00Z,-5.5\n"

    result = price_feed_import_csv(feed=feed, file=csv.encode(), unit="mwh")

    assert (result.created, result.updated) == (2, 0)
    assert _stored(feed) == {T0: Decimal("0.08412"), T0 + timedelta(minutes=15): Decimal("-0.0055")}


def test_reimporting_an_interval_replaces_its_value_and_reports_it():
    feed = PriceFeedFactory(interval_s=3600)
    price_feed_import_csv(feed=feed, file="2026-03-01T00:00:00Z,0.10\n", unit="kwh")

    result = price_feed_import_csv(feed=feed, file="2026-03-01T00:00:00Z,0.12\n2026-03-01T01:00:00Z,0.13\n",
                                   unit="kwh")

    assert (result.created, result.updated) == (1, 1)
    assert _stored(feed)[T0] == Decimal("0.12")


def test_semicolon_separated_files_are_read_too():
    feed = PriceFeedFactory(interval_s=3600)

    price_feed_import_csv(feed=feed, file="start;price\n2026-03-01T00:00:00Z;0.10\n", unit="kwh")

    assert _stored(feed) == {T0: Decimal("0.10")}


@pytest.mark.parametrize(("bad_line", "reason"), [
    ("2026-03-01T00:07:00Z,0.1", "line 3: 2026-03-01T00:07:00+00:00 is not the start of one of the feed's 900 s"),
    ("2026-03-01T00:30:00,0.1", "line 3: '2026-03-01T00:30:00' has no UTC offset"),
    ("2026-03-01T00:30:00Z,0,1", "line 3: expected 2 columns"),
    ("2026-03-01T00:30:00Z,abc", "line 3: 'abc' is not a number"),
    ("yesterday,0.1", "line 3: 'yesterday' is not an ISO 8601 date-time"),
    ("2026-03-01T00:00:00Z,0.2", "line 3: the interval 2026-03-01T00:00:00+00:00 appears twice"),
])
def test_one_bad_line_refuses_the_whole_file_naming_line_and_reason(bad_line, reason):
    feed = PriceFeedFactory(interval_s=900)
    csv = f"start,price\n2026-03-01T00:00:00Z,0.1\n{bad_line}\n2026-03-01T00:45:00Z,0.1\n"

    with pytest.raises(ValidationError) as refused:
        price_feed_import_csv(feed=feed, file=csv, unit="kwh")

    assert refused.value.messages[0].startswith(reason)
    assert not PriceFeedValue.objects.exists()


def test_values_from_the_api_need_aware_times():
    feed = PriceFeedFactory()

    with pytest.raises(ValidationError, match="entry 1: the start must be an aware date-time"):
        price_feed_import_values(feed=feed, values=[(T0, Decimal("0.1")), (T0.replace(tzinfo=None), Decimal("0.1"))])
    result = price_feed_import_values(feed=feed, values=[(T0, Decimal("0.1"))])

    assert result.created == 1


def test_the_engines_feed_covers_the_session_and_knows_the_interval():
    feed = PriceFeedFactory(code="epex", interval_s=3600)
    for hour, price in enumerate(["0.10", "0.20", "0.30"]):
        PriceFeedValueFactory(feed=feed, starts_at=T0 + timedelta(hours=hour), price_per_kwh=Decimal(price))

    source = price_feed_for(code="epex", start=T0 + timedelta(minutes=30), stop=T0 + timedelta(hours=1, minutes=30))

    assert source.price_at(to_us(T0 + timedelta(minutes=45))) == Decimal("0.10")
    assert source.price_at(to_us(T0 + timedelta(hours=1, minutes=59))) == Decimal("0.20")
    with pytest.raises(PriceFeedError):
        source.price_at(to_us(T0 + timedelta(hours=2, minutes=30)))  # outside what was asked for


def test_an_unknown_feed_is_a_price_feed_error():
    with pytest.raises(PriceFeedError, match="there is no price feed 'nowhere'"):
        price_feed_for(code="nowhere", start=T0, stop=T0 + timedelta(hours=1))
