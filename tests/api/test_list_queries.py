"""Every list endpoint reads a page in a fixed number of queries, however many rows it holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ConnectorFactory, CustomerFactory, IdTokenFactory, LocationFactory

MAKERS = {
    "/api/v1/locations/": LocationFactory,
    "/api/v1/charge-points/": lambda: ConnectorFactory().evse.charge_point,
    "/api/v1/customers/": CustomerFactory,
    "/api/v1/tokens/": IdTokenFactory,
}


def _queries_for_list(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", MAKERS)
def test_list_takes_the_same_number_of_queries_for_one_row_as_for_many(staff_api_client, url):
    MAKERS[url]()
    with_one = _queries_for_list(staff_api_client, url)
    for _ in range(6):
        MAKERS[url]()

    with_seven = _queries_for_list(staff_api_client, url)

    assert staff_api_client.get(url).json()["count"] == 7
    assert with_seven == with_one
