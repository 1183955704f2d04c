"""Operator staff find customers, their tokens and users in the admin, and suspend accounts or block tokens."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, IdToken, User
from tests.admin_helpers import filter_link, rows
from tests.factories import CustomerFactory, IdTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def changelist_url(model: str) -> str:
    return reverse(f"admin:customers_{model}_changelist")


def driver(**fields) -> User:
    return UserFactory(customer=fields.pop("customer", None) or CustomerFactory(), **fields)


# --- Pages answer and show rows ------------------------------------------------------------------------

MAKERS = {
    "customer": lambda: CustomerFactory(name="Ada Lovelace"),
    "idtoken": lambda: IdTokenFactory(uid="04AABBCCDD"),
    "user": lambda: driver(username="fleet.driver"),
}
SHOWN_AS = {"customer": "Ada Lovelace", "idtoken": "04AABBCCDD", "user": "fleet.driver"}


@pytest.mark.parametrize("model", MAKERS)
def test_changelist_lists_its_rows(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(changelist_url(model), {"q": SHOWN_AS[model]})

    assert rows(response) == {obj}
    assert SHOWN_AS[model] in response.text


@pytest.mark.parametrize("model", MAKERS)
def test_change_page_opens(admin_client, model):
    obj = MAKERS[model]()

    response = admin_client.get(reverse(f"admin:customers_{model}_change", args=[obj.pk]))

    assert response.status_code == 200
    assert SHOWN_AS[model] in response.text


@pytest.mark.parametrize("model", MAKERS)
def test_add_page_opens(admin_client, model):
    assert admin_client.get(reverse(f"admin:customers_{model}_add")).status_code == 200


# --- Search ----------------------------------------------------------------------------------------------

SEARCHES = [
    ("customer", "DE123456789", lambda: CustomerFactory(vat_id="DE123456789"), CustomerFactory),
    ("customer", "fleet@acme.example", lambda: CustomerFactory(email="fleet@acme.example"), CustomerFactory),
    ("customer", "C0000ACME1", lambda: CustomerFactory(number="C0000ACME1"), CustomerFactory),
    ("customer", "Lovelace", lambda: CustomerFactory(name="Ada Lovelace"),
     lambda: CustomerFactory(name="Grace Hopper")),
    ("idtoken", "1234-5678", lambda: IdTokenFactory(visual_number="1234-5678"), IdTokenFactory),
    ("idtoken", "DE-EVB-C12345678", lambda: IdTokenFactory(contract_id="DE-EVB-C12345678-9"), IdTokenFactory),
    ("idtoken", "Lovelace", lambda: IdTokenFactory(customer__name="Ada Lovelace"),
     lambda: IdTokenFactory(customer__name="Grace Hopper")),
    ("idtoken", "04FEED", lambda: IdTokenFactory(uid="04FEED01"), lambda: IdTokenFactory(uid="04BEEF01")),
    ("user", "Acme Logistics", lambda: driver(customer=CustomerFactory(name="Acme Logistics")), driver),
]


@pytest.mark.parametrize(("model", "query", "make_hit", "make_miss"), SEARCHES)
def test_search_finds_the_matching_row_only(admin_client, model, query, make_hit, make_miss):
    hit, _miss = make_hit(), make_miss()

    assert rows(admin_client.get(changelist_url(model), {"q": query})) == {hit}


# --- Filters ---------------------------------------------------------------------------------------------

FILTERS = [
    ("customer", "kind", "Company", lambda: CustomerFactory(kind="company"), CustomerFactory),
    ("customer", "status", "Suspended", lambda: CustomerFactory(status="suspended"), CustomerFactory),
    ("customer", "country", "Austria", lambda: CustomerFactory(country="AT"), CustomerFactory),
    ("customer", "currency", "CHF", lambda: CustomerFactory(currency="CHF"), CustomerFactory),
    ("idtoken", "status", "Blocked", lambda: IdTokenFactory(status="blocked"), IdTokenFactory),
    ("idtoken", "type", "Contract (eMAID, ISO 15118)", lambda: IdTokenFactory(type="eMAID"), IdTokenFactory),
    ("idtoken", "expiry", "Has expired", lambda: IdTokenFactory(expires_at=timezone.now() - timedelta(days=1)),
     lambda: IdTokenFactory(expires_at=timezone.now() + timedelta(days=1))),
    ("idtoken", "expiry", "Expires later", lambda: IdTokenFactory(expires_at=timezone.now() + timedelta(days=1)),
     lambda: IdTokenFactory(expires_at=timezone.now() - timedelta(days=1))),
    ("idtoken", "expiry", "No expiry date", IdTokenFactory,
     lambda: IdTokenFactory(expires_at=timezone.now() + timedelta(days=1))),
    ("idtoken", "customer kind", "Company", lambda: IdTokenFactory(customer__kind="company"), IdTokenFactory),
    ("user", "fleet role", "Fleet manager", lambda: driver(fleet_role="manager"), driver),
]


@pytest.mark.parametrize(("model", "title", "choice", "make_hit", "make_miss"), FILTERS)
def test_sidebar_filter_narrows_the_list(admin_client, model, title, choice, make_hit, make_miss):
    hit, _miss = make_hit(), make_miss()
    url = changelist_url(model)

    query_string = filter_link(admin_client.get(url), title, choice)

    assert rows(admin_client.get(url + query_string)) == {hit}


def test_user_list_can_show_staff_only(admin_client, admin_user):
    driver()
    url = changelist_url("user")

    query_string = filter_link(admin_client.get(url), "staff status", "Yes")

    assert rows(admin_client.get(url + query_string)) == {admin_user}


# --- Bounded queries -------------------------------------------------------------------------------------


def customer_with_tokens() -> Customer:
    customer = CustomerFactory()
    IdTokenFactory.create_batch(2, customer=customer)
    return customer


BULK_MAKERS = {
    "customer": customer_with_tokens,
    "idtoken": lambda: IdTokenFactory(user=driver()),
    "user": driver,
}


@pytest.mark.parametrize("model", BULK_MAKERS)
def test_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries, model):
    url = changelist_url(model)
    for _ in range(5):
        BULK_MAKERS[model]()
    admin_client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as with_five:
        admin_client.get(url)
    for _ in range(20):
        BULK_MAKERS[model]()

    with django_assert_max_num_queries(len(with_five)):
        response = admin_client.get(url)

    assert len(response.context["cl"].result_list) >= 25


# --- Customers -------------------------------------------------------------------------------------------


def test_customer_list_counts_its_tokens(admin_client):
    customer_with_tokens()

    response = admin_client.get(changelist_url("customer"))

    assert '<td class="field-token_count">2</td>' in response.text


def test_customer_page_shows_its_tokens_and_links_to_its_users(admin_client):
    customer = CustomerFactory()
    token = IdTokenFactory(customer=customer, uid="04C0FFEE")
    user = driver(customer=customer)

    response = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert f'value="{token.uid}"' in response.text
    assert reverse("admin:customers_user_change", args=[user.pk]) in response.text


def post_action(client, model: str, action: str, objects) -> str:
    response = client.post(
        changelist_url(model), {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True
    )
    assert response.status_code == 200
    return response.text


def test_suspend_action_suspends_only_the_selected_active_customers(admin_client):
    active, closed, untouched = CustomerFactory(), CustomerFactory(status="closed"), CustomerFactory()

    page = post_action(admin_client, "customer", "suspend", [active, closed])

    statuses = dict(Customer.objects.values_list("pk", "status"))
    assert (statuses[active.pk], statuses[closed.pk], statuses[untouched.pk]) == ("suspended", "closed", "active")
    assert "1 customer suspended" in page


def test_reactivate_action_reopens_suspended_customers_but_not_closed_ones(admin_client):
    suspended, closed = CustomerFactory(status="suspended"), CustomerFactory(status="closed")

    post_action(admin_client, "customer", "reactivate", [suspended, closed])

    statuses = dict(Customer.objects.values_list("pk", "status"))
    assert (statuses[suspended.pk], statuses[closed.pk]) == ("active", "closed")


# --- ID tokens -------------------------------------------------------------------------------------------


def test_block_action_blocks_the_selected_tokens(admin_client):
    selected, untouched = IdTokenFactory.create_batch(2), IdTokenFactory()

    page = post_action(admin_client, "idtoken", "block", selected)

    assert set(IdToken.objects.filter(pk__in=[t.pk for t in selected]).values_list("status", flat=True)) == {"blocked"}
    untouched.refresh_from_db()
    assert untouched.status == "valid"
    assert not IdToken.objects.get(pk=selected[0].pk).is_usable_at(timezone.now())
    assert "2 tokens blocked" in page


def test_unblock_action_makes_blocked_tokens_valid_but_leaves_expired_ones(admin_client):
    blocked, expired = IdTokenFactory(status="blocked"), IdTokenFactory(status="expired")

    post_action(admin_client, "idtoken", "unblock", [blocked, expired])

    statuses = dict(IdToken.objects.values_list("pk", "status"))
    assert (statuses[blocked.pk], statuses[expired.pk]) == ("valid", "expired")


def test_token_form_picks_customer_and_user_by_autocomplete(admin_client):
    token = IdTokenFactory()

    response = admin_client.get(reverse("admin:customers_idtoken_change", args=[token.pk]))

    form = response.context["adminform"].form
    assert form.fields["customer"].widget.widget.__class__.__name__ == "AutocompleteSelect"
    assert form.fields["user"].widget.widget.__class__.__name__ == "AutocompleteSelect"


# --- Users -----------------------------------------------------------------------------------------------


def test_staff_can_add_a_fleet_manager_for_a_customer(admin_client):
    customer = CustomerFactory()

    response = admin_client.post(
        reverse("admin:customers_user_add"),
        {
            "username": "fleet.boss", "usable_password": "true", "password1": "long and unusual phrase 42",
            "password2": "long and unusual phrase 42", "customer": customer.pk, "fleet_role": "manager",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="fleet.boss")
    assert (user.customer, user.fleet_role) == (customer, "manager")
    assert user.check_password("long and unusual phrase 42")


def test_user_page_edits_the_customer_account_fields(admin_client):
    user = driver()

    form = admin_client.get(reverse("admin:customers_user_change", args=[user.pk])).context["adminform"].form

    assert {"customer", "fleet_role"} <= set(form.fields)
