"""The demo network that `manage.py seed_demo` writes: sites, stations, customers and logins, as plain data.

People, companies, VAT ids and card numbers are made up; streets and postal codes are real, coordinates
approximate (on or near that street). Mail addresses use the reserved `.example` / `example.com` domains.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from customers.models import IdToken, User
from stations.models import ChargePoint, Connector, ConnectorStatus

# One password for every demo login and one for every demo station: this is a demo, and the command
# prints both. Never use seed_demo on a database that real people or stations use.
DEMO_LOGIN_PASSWORD = "evb-demo-password"
DEMO_STATION_PASSWORD = "demo-station-password"  # 16-40 characters (OCPP security profile 1)
SIMULATOR_STATION = "EVB-BER-03"  # an accepted OCPP 1.6 AC station with free sockets

OPERATOR_ID = "EVB"  # the operator's eMI3 / OCPI party id, also the eMSP id in contract ids


def _weekdays(days: range, begin: str, end: str) -> list[dict]:
    return [{"weekday": day, "period_begin": begin, "period_end": end} for day in days]


ALWAYS_OPEN = {"twentyfourseven": True}
# Supermarket car parks: German shops close on Sundays, Austrian ones close earlier on Saturdays.
SUPERMARKET_DE = {"regular_hours": _weekdays(range(1, 7), "07:00", "22:00")}
SHOPPING_CENTRE_DE = {"regular_hours": _weekdays(range(1, 7), "09:00", "20:00")}
SHOPPING_CENTRE_AT = {
    "regular_hours": _weekdays(range(1, 6), "09:00", "20:00") + _weekdays(range(6, 7), "09:00", "18:00")
}
SUPERMARKET_AT = {"regular_hours": _weekdays(range(1, 6), "07:15", "20:00") + _weekdays(range(6, 7), "07:15", "18:00")}


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    address: str
    postal_code: str
    city: str
    country: str
    latitude: str
    longitude: str
    opening_hours: dict = field(default_factory=lambda: ALWAYS_OPEN)

    @property
    def time_zone(self) -> str:
        return {"DE": "Europe/Berlin", "AT": "Europe/Vienna"}[self.country]


SITES = [
    Site("berlin-heidestrasse", "EVB Hub Europacity", "Heidestraße 50", "10557", "Berlin", "DE",
         "52.532100", "13.366800"),
    Site("berlin-mehringdamm", "Supermarket car park Mehringdamm", "Mehringdamm 55", "10961", "Berlin", "DE",
         "52.493600", "13.388100", SUPERMARKET_DE),
    Site("hamburg-sandtorkai", "Car park HafenCity Sandtorkai", "Am Sandtorkai 50", "20457", "Hamburg", "DE",
         "53.543300", "9.987000"),
    Site("hamburg-stresemannstrasse", "Fast charging park Altona", "Stresemannstraße 163", "22769", "Hamburg",
         "DE", "53.563700", "9.943700"),
    Site("munich-leopoldstrasse", "Underground car park Leopoldstraße", "Leopoldstraße 146", "80804", "München",
         "DE", "48.170000", "11.586000"),
    Site("munich-riem", "Shopping centre Riem", "Willy-Brandt-Platz 5", "81829", "München", "DE",
         "48.133700", "11.691700", SHOPPING_CENTRE_DE),
    Site("vienna-mariahilfer-strasse", "Garage Mariahilfer Straße", "Mariahilfer Straße 120", "1070", "Wien", "AT",
         "48.196300", "16.341200"),
    Site("vienna-kagran", "Park & Charge Kagran", "Wagramer Straße 94", "1220", "Wien", "AT",
         "48.242800", "16.434500", SHOPPING_CENTRE_AT),
    Site("graz-annenstrasse", "Supermarket car park Annenstraße", "Annenstraße 53", "8020", "Graz", "AT",
         "47.071800", "15.426800", SUPERMARKET_AT),
    Site("graz-liebenau", "Fast charging park Graz-Süd", "Liebenauer Hauptstraße 150", "8041", "Graz", "AT",
         "47.035000", "15.462000"),
]


@dataclass(frozen=True)
class Plug:
    standard: str
    format: str
    power_type: str
    max_voltage_v: int
    max_amperage_a: int
    max_power_w: int

    @property
    def is_dc(self) -> bool:
        return self.power_type == Connector.PowerType.DC


_S, _C = Connector.Standard, Connector.Format
TYPE2_22KW = Plug(_S.TYPE2, _C.SOCKET, Connector.PowerType.AC_3_PHASE, 400, 32, 22_000)
TYPE2_11KW = Plug(_S.TYPE2, _C.SOCKET, Connector.PowerType.AC_3_PHASE, 400, 16, 11_000)
CCS2_300KW = Plug(_S.CCS2, _C.CABLE, Connector.PowerType.DC, 1000, 500, 300_000)
CCS2_240KW = Plug(_S.CCS2, _C.CABLE, Connector.PowerType.DC, 1000, 400, 240_000)
CCS2_180KW = Plug(_S.CCS2, _C.CABLE, Connector.PowerType.DC, 920, 200, 180_000)
CHADEMO_50KW = Plug(_S.CHADEMO, _C.CABLE, Connector.PowerType.DC, 500, 125, 50_000)


@dataclass(frozen=True)
class Hardware:
    """A station model as its BootNotification describes it, and the plugs of each EVSE."""

    vendor: str
    model: str
    firmware_version: str
    meter_type: str
    evses: tuple[tuple[Plug, ...], ...]
    sample_interval_s: int  # MeterValueSampleInterval as configured on the station

    @property
    def is_dc(self) -> bool:
        return self.evses[0][0].is_dc


HARDWARE = {
    "alfen-eve-double": Hardware("Alfen BV", "Eve Double Pro-line", "6.4.0-4142", "Eastron SDM630",
                                 ((TYPE2_22KW,), (TYPE2_22KW,)), 900),
    "abb-terra-ac": Hardware("ABB", "Terra AC W22-T-R-0", "1.8.21", "ABB B23 312", ((TYPE2_22KW,),), 600),
    "compleo-duo-pro": Hardware("Compleo", "DUO PRO", "2.10.4", "Eastron SDM630MCT",
                                ((TYPE2_22KW,), (TYPE2_22KW,)), 900),
    "wallbe-pro-plus": Hardware("wallbe", "Pro Plus", "2.8.1", "Eastron SDM72D", ((TYPE2_11KW,),), 900),
    "abb-terra-184": Hardware("ABB", "Terra 184", "1.8.29", "LEM DCBM 400/600", ((CCS2_180KW,), (CCS2_180KW,)), 300),
    # OCPP 1.6 knows one connector per EVSE, so only the OCPP 2.0.1 variant adds the CHAdeMO cable.
    "alpitronic-hyc300": Hardware("alpitronic", "HYC300", "2.4.1", "LEM DCBM 400/600",
                                  ((CCS2_300KW,), (CCS2_300KW,)), 300),
    "alpitronic-hyc300-chademo": Hardware("alpitronic", "HYC300", "2.4.1", "LEM DCBM 400/600",
                                          ((CCS2_300KW, CHADEMO_50KW), (CCS2_300KW,)), 300),
    "kempower-satellite": Hardware("Kempower", "S-Series Satellite", "1.34.2", "Isabellenhuette IEM-DCC",
                                   ((CCS2_240KW,), (CCS2_240KW,)), 300),
}


@dataclass(frozen=True)
class EvseState:
    """What an EVSE's connectors last reported, and for how long (Charging means a session is active)."""

    status: str
    since: timedelta
    error_code: str = ""


@dataclass(frozen=True)
class Station:
    identity: str
    site: str
    hardware: str
    serial_number: str
    ocpp_version: str = ChargePoint.OcppVersion.V16
    registration_status: str = ChargePoint.RegistrationStatus.ACCEPTED
    last_seen: timedelta | None = timedelta(seconds=45)  # None: never connected
    is_connected: bool = True
    states: dict[int, EvseState] = field(default_factory=dict)  # by OCPP EVSE id; others are Available

    def evse_id(self, ocpp_evse_id: int) -> str:
        """eMI3 EVSE id, e.g. DE*EVB*EBER01*1 for EVSE 1 of EVB-BER-01."""
        country = SITE_BY_CODE[self.site].country
        return f"{country}*{OPERATOR_ID}*E{self.identity.removeprefix('EVB-').replace('-', '')}*{ocpp_evse_id}"


_V201 = ChargePoint.OcppVersion.V201
_PENDING = ChargePoint.RegistrationStatus.PENDING


def _charging(minutes: int) -> EvseState:
    return EvseState(ConnectorStatus.CHARGING, timedelta(minutes=minutes))


STATIONS = [
    Station("EVB-BER-01", "berlin-heidestrasse", "alpitronic-hyc300-chademo", "HYC300-2203-0417", _V201,
            states={2: _charging(18)}),
    Station("EVB-BER-02", "berlin-heidestrasse", "alpitronic-hyc300", "HYC300-2203-0418"),
    Station(SIMULATOR_STATION, "berlin-heidestrasse", "alfen-eve-double", "ACE0281411"),
    Station("EVB-BER-04", "berlin-mehringdamm", "compleo-duo-pro", "CDP2207-01123"),
    Station("EVB-BER-05", "berlin-mehringdamm", "compleo-duo-pro", "CDP2311-00871",
            registration_status=_PENDING, last_seen=timedelta(minutes=3)),
    Station("EVB-HAM-01", "hamburg-sandtorkai", "abb-terra-ac", "TACW2242120G0342"),
    Station("EVB-HAM-02", "hamburg-sandtorkai", "abb-terra-ac", "TACW2242120G0343",
            states={1: EvseState(ConnectorStatus.FAULTED, timedelta(days=3, hours=4), "GroundFailure")}),
    Station("EVB-HAM-03", "hamburg-sandtorkai", "abb-terra-ac", "TACW2242120G0351", states={1: _charging(130)}),
    Station("EVB-HAM-04", "hamburg-stresemannstrasse", "abb-terra-184", "T184-2212-00213",
            states={1: _charging(7)}),
    Station("EVB-HAM-05", "hamburg-stresemannstrasse", "abb-terra-184", "T184-2212-00214"),
    Station("EVB-MUC-01", "munich-leopoldstrasse", "alfen-eve-double", "ACE0293378", states={1: _charging(52)}),
    Station("EVB-MUC-02", "munich-leopoldstrasse", "alfen-eve-double", "ACE0293379"),
    Station("EVB-MUC-03", "munich-leopoldstrasse", "wallbe-pro-plus", "WB-PP-18-04412"),
    Station("EVB-MUC-04", "munich-riem", "kempower-satellite", "KP-S-2305-1187", _V201),
    Station("EVB-MUC-05", "munich-riem", "alfen-eve-double", "ACE0301102",
            states={2: EvseState(ConnectorStatus.UNAVAILABLE, timedelta(days=5, hours=2))}),
    Station("EVB-VIE-01", "vienna-mariahilfer-strasse", "abb-terra-ac", "TACW2242320G1120",
            states={1: _charging(40)}),
    Station("EVB-VIE-02", "vienna-mariahilfer-strasse", "abb-terra-ac", "TACW2242320G1121",
            last_seen=timedelta(days=2, hours=6), is_connected=False),
    Station("EVB-VIE-03", "vienna-kagran", "alpitronic-hyc300-chademo", "HYC300-2301-0102", _V201),
    Station("EVB-VIE-04", "vienna-kagran", "alfen-eve-double", "ACE0310554"),
    Station("EVB-GRZ-01", "graz-annenstrasse", "compleo-duo-pro", "CDP2209-00456"),
    Station("EVB-GRZ-02", "graz-liebenau", "abb-terra-184", "T184-2302-00577",
            last_seen=timedelta(hours=9, minutes=20), is_connected=False),
    Station("EVB-GRZ-03", "graz-liebenau", "kempower-satellite", "KP-S-2402-0031", _V201,
            registration_status=_PENDING, last_seen=None, is_connected=False),
]

SITE_BY_CODE = {site.code: site for site in SITES}


@dataclass(frozen=True)
class Card:
    uid: str  # 7-byte ISO 14443 UID in hex, as the reader sends it
    visual_number: str
    contract_id: str = ""
    status: str = IdToken.Status.VALID
    # When the card stopped working (blocked or expired), relative to now; sessions stop before then.
    ended_ago: timedelta | None = None
    label: str = ""


@dataclass(frozen=True)
class Person:
    """A driver: a private customer's account holder, or a company's driver or fleet manager."""

    name: str
    email: str
    cards: tuple[Card, ...]
    username: str = ""  # only people who sign in have a user
    fleet_role: str = User.FleetRole.DRIVER


@dataclass(frozen=True)
class Account:
    kind: str
    name: str
    email: str
    address_line1: str
    postal_code: str
    city: str
    country: str
    people: tuple[Person, ...]
    language: str = "de"
    vat_id: str = ""
    status: str = "active"
    address_line2: str = ""
    token_group: str = ""  # OCPP parentIdTag shared by a fleet's cards


def _person(name, email, address, postal_code, city, country, cards, *, username="", language="de",
            status="active") -> Account:
    return Account("person", name, email, address, postal_code, city, country,
                   (Person(name, email, cards, username),), language=language, status=status)


_BLOCKED, _EXPIRED = IdToken.Status.BLOCKED, IdToken.Status.EXPIRED
_MANAGER = User.FleetRole.MANAGER

ACCOUNTS = [
    _person("Lena Hoffmann", "lena.hoffmann@example.com", "Kastanienallee 12", "10435", "Berlin", "DE",
            (Card("04A2C91A6B5E80", "EVB-100101", "DE-EVB-C10010158"),), username="driver", language="en"),
    _person("Jonas Becker", "jonas.becker@example.com", "Eppendorfer Weg 88", "20259", "Hamburg", "DE",
            (Card("04B7E2226C4D81", "EVB-100102"),)),
    _person("Sophie Wagner", "sophie.wagner@example.org", "Hohenzollernstraße 31", "80801", "München", "DE",
            (Card("045D13F2A91C80", "EVB-100103", "DE-EVB-C10010336"),)),
    _person("Thomas Bauer", "thomas.bauer@example.net", "Belgradstraße 9", "80796", "München", "DE",
            (Card("04F0129BB23A81", "EVB-100104", status=_BLOCKED, ended_ago=timedelta(days=9),
                  label="Reported lost"),
             Card("0419AC07D44F80", "EVB-100198", label="Replacement card"))),
    _person("Felix Schulz", "felix.schulz@example.com", "Sonnenallee 140", "12059", "Berlin", "DE",
            (Card("04668E5C1F2B81", "EVB-100105"),), status="suspended"),
    _person("Marie Schmidt", "marie.schmidt@example.org", "Mühlenkamp 27", "22303", "Hamburg", "DE",
            (Card("04C3D2777A9E80", "EVB-100106"),)),
    _person("Maximilian Gruber", "maximilian.gruber@example.com", "Neubaugasse 25", "1070", "Wien", "AT",
            (Card("047A31B8E0D481", "EVB-200101", "AT-EVB-C20010175"),)),
    _person("Lukas Steiner", "lukas.steiner@example.com", "Erzherzog-Karl-Straße 57", "1220", "Wien", "AT",
            (Card("0488F1E3C27A80", "EVB-200102", status=_EXPIRED, ended_ago=timedelta(days=12)),)),
    _person("Anna Huber", "anna.huber@example.org", "Keplerstraße 41", "8020", "Graz", "AT",
            (Card("04E94B1D66C381", "EVB-200103"),)),
    Account(
        "company", "Spreewerk Logistik GmbH", "fleet@spreewerk-logistik.example", "Gradestraße 92", "12347",
        "Berlin", "DE", vat_id="DE287614530", token_group="FLEET-SPREEWERK", people=(
            Person("Katrin Vogel", "k.vogel@spreewerk-logistik.example",
                   (Card("0431F5A8B2E680", "EVB-300101", "DE-EVB-C30010112"),), "fleetmanager", _MANAGER),
            Person("Mehmet Yilmaz", "m.yilmaz@spreewerk-logistik.example",
                   (Card("04D6E8130F7A81", "EVB-300102"),), "m.yilmaz"),
            Person("Paul Neumann", "p.neumann@spreewerk-logistik.example",
                   (Card("0450A9C4E31B80", "EVB-300103"),), "p.neumann"),
            Person("Julia Krüger", "j.krueger@spreewerk-logistik.example",
                   (Card("049BB2F07C5D81", "EVB-300104"),), "j.krueger"),
            Person("Stefan Wolf", "s.wolf@spreewerk-logistik.example",
                   (Card("042E7D61A98F80", "EVB-300105"),), "s.wolf"),
        )),
    Account(
        "company", "Hanse Elektro Service GmbH", "buchhaltung@hanse-elektro.example", "Wendenstraße 130",
        "20537", "Hamburg", "DE", vat_id="DE311877042", token_group="FLEET-HANSE-ELEKTRO", people=(
            Person("Birte Jansen", "b.jansen@hanse-elektro.example",
                   (Card("04817C3E5D2A81", "EVB-300201"),), "b.jansen", _MANAGER),
            Person("Ole Petersen", "o.petersen@hanse-elektro.example",
                   (Card("04F34A96B1C780", "EVB-300202"),), "o.petersen"),
            Person("Finn Hansen", "f.hansen@hanse-elektro.example",
                   (Card("04258DE1F06B81", "EVB-300203"),), "f.hansen"),
        )),
    Account(
        "company", "Donau Pflegedienst GmbH", "office@donau-pflegedienst.example", "Leopoldauer Straße 28",
        "1210", "Wien", "AT", vat_id="ATU73584219", token_group="FLEET-DONAU-PFLEGE", people=(
            Person("Eva Pichler", "e.pichler@donau-pflegedienst.example",
                   (Card("04A6F0D37E9B80", "EVB-400101", "AT-EVB-C40010119"),), "e.pichler", _MANAGER),
            Person("Sandra Moser", "s.moser@donau-pflegedienst.example",
                   (Card("0473B9E2C8A481", "EVB-400102"),), "s.moser"),
            Person("Michael Hofer", "m.hofer@donau-pflegedienst.example",
                   (Card("041FD54B0A6E80", "EVB-400103"),), "m.hofer"),
        )),
]


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    is_superuser: bool = False
    group: str = ""  # the staff role (staff/roles.py): Operators, Support, Accountants or Administrators


# Operator accounts; the driver and the fleet manager are the users of ACCOUNTS named "driver" and
# "fleetmanager".
STAFF_LOGINS = [
    Login("admin", "superuser", "admin@evbackoffice.example", is_staff=True, is_superuser=True),
    Login("operator", "operator (the whole network)", "operator@evbackoffice.example", "Olivia", "Weber",
          is_staff=True, group="Operators"),
    Login("support", "support (reads all; sessions and cards)", "support@evbackoffice.example", "Sven", "Berger",
          is_staff=True, group="Support"),
    Login("accountant", "accountant (invoices and exports, read-only)", "accountant@evbackoffice.example", "Anna",
          "Schmidt", is_staff=True, group="Accountants"),
]
DRIVER_LOGINS = {"driver": "driver of a private customer", "fleetmanager": "fleet manager of a company"}
# Staff sign in with a second factor (staff/). The demo staff share this published authenticator key (base32,
# for any authenticator app; hex for django-otp), so `make run` users can sign in: demo data only.
DEMO_TOTP_KEY_BASE32 = "EVBDEMOEVBDEMOEVBDEMOEVBDEMOEVBD"

# Blank cards in stock (uid, printed number, activation code): a driver who signs up links one in the portal.
# The codes are published here, like the demo passwords: demo data only.
STOCK_CARDS = (
    ("04D1E2F3A4B501", "EVB-C-900001", "K7M2-Q9XD"),
    ("04D1E2F3A4B502", "EVB-C-900002", "R4T8-W3ZN"),
    ("04D1E2F3A4B503", "EVB-C-900003", "H6P5-J2LC"),
)
