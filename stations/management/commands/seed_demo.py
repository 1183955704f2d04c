"""`manage.py seed_demo`: writes the demo charging network of stations/demo.py, idempotently.

Every object is looked up by its natural key first and only created when missing (nothing existing is
changed); the month of sessions is written only while the demo stations have none.
"""

import base64
import random
import time
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.demo import billing_demo_create
from customers.models import CardStock, Customer, IdToken, User
from staff.roles import roles_ensure
from staff.twofactor import totp_device_install
from stations import demo
from stations.management.demo_history import demo_history_exists, history_create
from stations.models import ChargePoint, Connector, ConnectorStatus, Evse, Location

BASE_URL = "http://127.0.0.1:8000"


def _ensure(model: type[models.Model], lookup: dict, /, **values) -> tuple[models.Model, bool]:
    """The object with this natural key, created (and validated like a form would) if missing."""
    obj = model.objects.filter(**lookup).first()
    if obj is not None:
        return obj, False
    obj = model(**lookup, **values)
    obj.full_clean()
    obj.save(force_insert=True)
    return obj, True


class Command(BaseCommand):
    help = (
        "Create a demo charging network (locations, stations, customers, cards, a month of sessions) and demo "
        "logins. Safe to run again: it only adds what is missing. Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Run although DEBUG is off. The demo logins have published passwords: never on production.",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a production database. seed_demo creates logins with "
                "published passwords; run it only on a development or demo database (--force to insist)."
            )
        started = time.monotonic()
        self.login_password_hash = ""  # hashed once, on first need: hashing takes about 0.3 s
        now = timezone.now().replace(microsecond=0)
        created = {}
        with transaction.atomic():
            created["locations"] = self._locations(now)
            created["charge points"], created["EVSEs"], created["connectors"] = self._stations(now)
            created["customers"], created["users"], created["ID tokens"] = self._customers(now)
            logins = self._logins(now)
            created["cards in stock"] = self._portal(now)
            if demo_history_exists():
                sessions = meter_values = 0
            else:
                sessions, meter_values = history_create(now=now)
            billing = billing_demo_create(now=now)
        created["sessions"], created["meter values"] = sessions, meter_values
        created |= billing
        self._report(created, logins, time.monotonic() - started)

    # --- network -----------------------------------------------------------------------------------------
    def _locations(self, now: datetime) -> int:
        count = 0
        for site in demo.SITES:
            _, new = _ensure(
                Location, {"code": site.code}, name=site.name, address=site.address, postal_code=site.postal_code,
                city=site.city, country=site.country, latitude=site.latitude, longitude=site.longitude,
                time_zone=site.time_zone, opening_hours=site.opening_hours, created_at=now - timedelta(days=420),
            )
            count += new
        return count

    def _stations(self, now: datetime) -> tuple[int, int, int]:
        # Hashing is deliberately slow (about 0.3 s), so all demo stations share one hash of one password.
        identities = [station.identity for station in demo.STATIONS]
        template = ChargePoint()
        if ChargePoint.objects.filter(identity__in=identities).count() < len(identities):
            template.set_password(demo.DEMO_STATION_PASSWORD)
        counts = [0, 0, 0]
        for station in demo.STATIONS:
            rng = random.Random(f"station:{station.identity}")
            location = Location.objects.get(code=station.site)
            charge_point, new = _ensure(ChargePoint, {"identity": station.identity}, **self._station_fields(
                station, location, now, rng), password_hash=template.password_hash)
            counts[0] += new
            hardware = demo.HARDWARE[station.hardware]
            for ocpp_evse_id, plugs in enumerate(hardware.evses, start=1):
                evse, new = _ensure(Evse, {"evse_id": station.evse_id(ocpp_evse_id)}, charge_point=charge_point,
                                    ocpp_evse_id=ocpp_evse_id, physical_reference=str(ocpp_evse_id))
                counts[1] += new
                counts[2] += self._connectors(station, evse, plugs, now, rng)
        return tuple(counts)

    @staticmethod
    def _station_fields(station: demo.Station, location: Location, now: datetime, rng: random.Random) -> dict:
        hardware = demo.HARDWARE[station.hardware]
        booted = station.last_seen is not None  # a station that never connected told us nothing yet
        pending = station.registration_status == ChargePoint.RegistrationStatus.PENDING
        return {
            "location": location,
            "vendor": hardware.vendor,
            "model": hardware.model,
            "serial_number": station.serial_number,
            "firmware_version": hardware.firmware_version if booted else "",
            "meter_type": hardware.meter_type if booted else "",
            "iccid": f"89{'49' if location.country == 'DE' else '43'}{rng.randrange(10**15):015d}"
            if hardware.is_dc and booted else "",
            "ocpp_version": station.ocpp_version,
            "security_profile": ChargePoint.SecurityProfile.BASIC,
            "registration_status": station.registration_status,
            "status": ConnectorStatus.AVAILABLE if booted and not pending else ConnectorStatus.UNKNOWN,
            # Nothing is connected until a real (or simulated) station opens its websocket.
            "is_connected": False,
            "last_seen_at": now - station.last_seen if booted else None,
            # Stations keep their websocket open for days; the offline ones kept their last connection time.
            "connected_at": now - station.last_seen - timedelta(hours=1 if pending else rng.randint(2, 240))
            if booted else None,
            "created_at": now - (timedelta(days=2) if pending else timedelta(days=rng.randint(60, 400))),
        }

    @staticmethod
    def _connectors(station: demo.Station, evse: Evse, plugs: tuple[demo.Plug, ...], now: datetime,
                    rng: random.Random) -> int:
        state = station.states.get(evse.ocpp_evse_id)
        if station.registration_status != ChargePoint.RegistrationStatus.ACCEPTED:
            status, since, error_code = ConnectorStatus.UNKNOWN, None, ""
        elif state is not None:
            status, since, error_code = state.status, now - state.since, state.error_code
        else:
            status, since, error_code = ConnectorStatus.AVAILABLE, now - timedelta(minutes=rng.randint(20, 600)), ""
        count = 0
        for ocpp_connector_id, plug in enumerate(plugs, start=1):
            # Only the first connector of an EVSE charges; its siblings wait (one vehicle per EVSE).
            sibling = ocpp_connector_id > 1 and status == ConnectorStatus.CHARGING
            _, new = _ensure(
                Connector, {"evse": evse, "ocpp_connector_id": ocpp_connector_id},
                standard=plug.standard, format=plug.format, power_type=plug.power_type,
                max_voltage_v=plug.max_voltage_v, max_amperage_a=plug.max_amperage_a, max_power_w=plug.max_power_w,
                status=ConnectorStatus.UNAVAILABLE if sibling else status, error_code=error_code,
                status_changed_at=since,
            )
            count += new
        return count

    # --- customers ---------------------------------------------------------------------------------------
    def _customers(self, now: datetime) -> tuple[int, int, int]:
        counts = [0, 0, 0]
        for account in demo.ACCOUNTS:
            rng = random.Random(f"customer:{account.email}")
            since = now - timedelta(days=rng.randint(90, 900))
            customer, new = _ensure(
                Customer, {"email": account.email}, kind=account.kind, name=account.name,
                address_line1=account.address_line1, address_line2=account.address_line2,
                postal_code=account.postal_code, city=account.city, country=account.country,
                vat_id=account.vat_id, currency="EUR", language=account.language, status=account.status,
                created_at=since,
            )
            counts[0] += new
            for person in account.people:
                user = None
                if person.username:
                    user, new = self._user(person, customer, since)
                    counts[1] += new
                for card in person.cards:
                    counts[2] += self._card(card, account, customer, user, since, now)
        return tuple(counts)

    def _user(self, person: demo.Person, customer: Customer, since: datetime) -> tuple[User, bool]:
        user = User.objects.filter(username=person.username).first()
        if user is not None:
            return user, False
        first_name, _, last_name = person.name.partition(" ")
        user = User(username=person.username, email=person.email, first_name=first_name, last_name=last_name,
                    customer=customer, fleet_role=person.fleet_role, date_joined=since)
        if person.username in demo.DRIVER_LOGINS:
            user.password = self._login_password()
        else:
            user.set_unusable_password()  # invited drivers who have not signed in yet
        user.full_clean()
        user.save(force_insert=True)
        return user, True

    @staticmethod
    def _card(card: demo.Card, account: demo.Account, customer: Customer, user: User | None,
              since: datetime, now: datetime) -> int:
        expires_at = None
        if card.status == IdToken.Status.EXPIRED:
            expires_at = now - card.ended_ago
        _, new = _ensure(
            IdToken, {"uid": card.uid}, type=IdToken.Type.ISO14443, visual_number=card.visual_number,
            contract_id=card.contract_id, status=card.status, expires_at=expires_at, group_id=account.token_group,
            customer=customer, user=user, label=card.label, created_at=since,
        )
        return int(new)

    # --- logins ------------------------------------------------------------------------------------------
    def _logins(self, now: datetime) -> list[tuple[str, str, str]]:
        """Staff logins (created here) and the driver logins (created with their customers), for the report."""
        groups = roles_ensure()
        for login in demo.STAFF_LOGINS:
            if User.objects.filter(username=login.username).exists():
                continue
            user = User(username=login.username, email=login.email, first_name=login.first_name,
                        last_name=login.last_name, is_staff=login.is_staff, is_superuser=login.is_superuser,
                        date_joined=now - timedelta(days=420))
            user.password = self._login_password()
            user.full_clean()
            user.save(force_insert=True)
            if login.group:
                user.groups.add(groups[login.group])
        key_hex = base64.b32decode(demo.DEMO_TOTP_KEY_BASE32).hex()
        for user in User.objects.filter(username__in=[login.username for login in demo.STAFF_LOGINS]):
            if not TOTPDevice.objects.filter(user=user).exists():
                totp_device_install(user=user, key_hex=key_hex)
        roles = {login.username: login.role for login in demo.STAFF_LOGINS} | demo.DRIVER_LOGINS
        users = User.objects.filter(username__in=roles).select_related("customer")
        # An account that existed before, or whose password was changed since, keeps its own password: say
        # so rather than print a wrong one. The demo logins share one hash, so this usually hashes once.
        known = {self.login_password_hash: True} if self.login_password_hash else {}
        rows = []
        for user in sorted(users, key=lambda u: list(roles).index(u.username)):
            if user.password not in known:
                known[user.password] = check_password(demo.DEMO_LOGIN_PASSWORD, user.password)
            role = roles[user.username] + (f" ({user.customer.name})" if user.customer else "")
            login = user.email if user.username in demo.DRIVER_LOGINS else user.username  # drivers: by e-mail
            rows.append((login, demo.DEMO_LOGIN_PASSWORD if known[user.password] else "(its own password)", role))
        return rows

    @staticmethod
    def _portal(now: datetime) -> int:
        """What the driver portal needs: the demo drivers' e-mail addresses verified (allauth refuses an
        unverified login), and a few blank cards in stock that a new sign-up can link with their codes."""
        for user in User.objects.filter(username__in=demo.DRIVER_LOGINS).exclude(email=""):
            EmailAddress.objects.get_or_create(user=user, email=user.email.lower(),
                                               defaults={"verified": True, "primary": True})
        created = 0
        for uid, number, code in demo.STOCK_CARDS:
            _, new = _ensure(CardStock, {"visual_number": number}, uid=uid,
                             activation_code_hash=make_password(code), created_at=now - timedelta(days=30))
            created += new
        return created

    def _login_password(self) -> str:
        """The hash of the demo login password, shared by all demo logins (see _stations for why)."""
        if not self.login_password_hash:
            self.login_password_hash = make_password(demo.DEMO_LOGIN_PASSWORD)
        return self.login_password_hash

    # --- output ------------------------------------------------------------------------------------------
    def _report(self, created: dict, logins: list[tuple[str, str, str]], seconds: float) -> None:
        new = ", ".join(f"{count} {name}" for name, count in created.items() if count)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data created in {seconds:.1f} s: {new}." if new else
            f"Demo data already present; nothing changed ({seconds:.1f} s)."
        ))
        self.stdout.write("\nDemo logins (demo data only: these passwords are published):")
        for username, password, role in logins:
            self.stdout.write(f"  {username:<36} {password:<20} {role}")
        self.stdout.write(
            f"\nStaff sign in with a second factor: add the demo key {demo.DEMO_TOTP_KEY_BASE32} to an authenticator "
            f"app\n(or `oathtool --totp -b {demo.DEMO_TOTP_KEY_BASE32}`), or run with STAFF_2FA_REQUIRED=false.")
        self.stdout.write("\nBlank RFID cards to link in the portal (Cards > Link a card):")
        for _, number, code in demo.STOCK_CARDS:
            self.stdout.write(f"  printed number {number}   activation code {code}")
        identity = demo.SIMULATOR_STATION
        self.stdout.write(
            f"\n  Portal:    {BASE_URL}/portal/   (drivers; find a charger without signing in)\n"
            f"  Admin:     {BASE_URL}/admin/\n"
            f"  API:       {BASE_URL}/api/v1/   (docs: {BASE_URL}/api/docs/)\n"
            f"\nDemo station for an OCPP simulator (demo credentials, shared by all demo stations):\n"
            f"  ws://127.0.0.1:8000/ocpp/{identity}   subprotocol ocpp1.6, Basic auth "
            f"{identity} / {demo.DEMO_STATION_PASSWORD}\n"
        )
