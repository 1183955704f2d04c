"""factory_boy factories for the domain models, shared by every test package."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import Customer, IdToken, User
from stations.models import ChargePoint, ChargingSession, Connector, Evse, Location


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"site-{n}")
    name = factory.Sequence(lambda n: f"Charging park {n}")
    address = "Invalidenstrasse 1"
    postal_code = "10115"
    city = "Berlin"
    country = "DE"
    latitude = Decimal("52.531000")
    longitude = Decimal("13.384000")
    time_zone = "Europe/Berlin"


class ChargePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargePoint
        skip_postgeneration_save = True

    location = factory.SubFactory(LocationFactory)
    identity = factory.Sequence(lambda n: f"CP{n:05d}")
    vendor = "Alfen"
    model = "Eve Double"
    registration_status = ChargePoint.RegistrationStatus.ACCEPTED
    password_hash = factory.LazyFunction(lambda: "")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        if extracted:
            obj.set_password(extracted)
            if create:
                obj.save(update_fields=["password_hash"])


class EvseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evse

    charge_point = factory.SubFactory(ChargePointFactory)
    ocpp_evse_id = 1
    evse_id = factory.Sequence(lambda n: f"DE*EVB*E{n:05d}*1")


class ConnectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connector

    evse = factory.SubFactory(EvseFactory)
    ocpp_connector_id = 1
    standard = Connector.Standard.TYPE2
    format = Connector.Format.SOCKET
    power_type = Connector.PowerType.AC_3_PHASE
    max_voltage_v = 400
    max_amperage_a = 32
    max_power_w = 22000


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    kind = Customer.Kind.PERSON
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"driver{n}@example.com")
    address_line1 = "Hauptstrasse 5"
    postal_code = "10115"
    city = "Berlin"
    country = "DE"
    currency = "EUR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class IdTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdToken

    uid = factory.Sequence(lambda n: f"04A1B2C3{n:06X}")
    type = IdToken.Type.ISO14443
    customer = factory.SubFactory(CustomerFactory)


class ChargingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChargingSession

    connector = factory.SubFactory(ConnectorFactory)
    evse = factory.SelfAttribute("connector.evse")
    charge_point = factory.SelfAttribute("connector.evse.charge_point")
    transaction_id = factory.Sequence(lambda n: str(n + 1))
    id_token = factory.SubFactory(IdTokenFactory)
    id_tag = factory.SelfAttribute("id_token.uid")
    customer = factory.SelfAttribute("id_token.customer")
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    meter_start_wh = 1_000_000
