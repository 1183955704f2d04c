"""German, the portal's second language: the driver's pages render in German once the driver picks it (the
language switcher, i.e. /i18n/setlang/, or the browser's Accept-Language), and the German catalogue
(locale/de/LC_MESSAGES/django.po) has every driver-facing string translated, nothing fuzzy, and a compiled
django.mo that matches it."""

import ast
import gettext as gnu_gettext
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from stations.models import ConnectorStatus
from tests.billing.factories import TariffAssignmentFactory, TariffFactory
from tests.factories import (
    ChargePointFactory,
    ChargingSessionFactory,
    ConnectorFactory,
    EvseFactory,
    IdTokenFactory,
    LocationFactory,
)
from tests.portal.conftest import signed_in

BASE = Path(settings.BASE_DIR)
PO = BASE / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# The English navigation, none of which may be left on a German page.
ENGLISH_NAV = ["Find a charger", "Sign out", "Payments", "Skip to content", ">Sessions<", ">Cards<"]


@pytest.fixture(autouse=True)
def _back_to_english():
    """LocaleMiddleware activates German in this thread; the tests after these must not inherit it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def german(client: Client) -> Client:
    """Pick German the way the footer's language switcher does."""
    response = client.post(reverse("set_language"), {"language": "de", "next": "/portal/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    return client


def page(client: Client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def assert_german(html: str, *words: str, absent: tuple[str, ...] = ()) -> None:
    assert 'lang="de"' in html
    for word in words:
        assert word in html, word
    for word in absent:
        assert word not in html, word


@pytest.fixture
def de_client(person) -> Client:
    return german(signed_in(person))


@pytest.fixture
def connector(db):
    station = ChargePointFactory(is_connected=True, location=LocationFactory(name="Marktplatz"))
    connector = ConnectorFactory(evse=EvseFactory(charge_point=station, evse_id="DE*EVB*E00077*1"),
                                 status=ConnectorStatus.AVAILABLE)
    TariffAssignmentFactory(tariff=TariffFactory(), location=station.location)
    return connector


# --- pages ---------------------------------------------------------------------------------------------------
def test_the_language_switcher_turns_the_public_charger_list_german(connector):
    html = page(german(Client()), reverse("portal:chargers"))
    assert_german(html, "Ladestation finden", "Anmelden", "Registrieren", "Suche", "1 Standort", "inkl. 19 % MwSt.",
                  'value="de" selected', absent=(*ENGLISH_NAV, "Sign in", "Sign up", "1 location", "VAT"))


def test_the_browsers_accept_language_is_enough_without_choosing(connector):
    html = page(Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5"), reverse("portal:chargers"))
    assert_german(html, "Ladestation finden", "Anmelden", absent=("Find a charger", "Sign in"))


def test_a_location_page_is_german(connector):
    html = page(german(Client()), reverse("portal:charger", args=[connector.evse.charge_point.location.pk]))
    assert_german(html, "Ladepunkte", "Preise", "Leistung", "Verfügbar", "Ohne Konto mit Karte bezahlen",
                  absent=("Charging points", "Opening hours", ">Available<"))


def test_the_sign_in_page_is_german(db):
    html = page(german(Client()), reverse("account_login"))
    assert_german(html, "Anmelden", "Passwort", "Registrieren", absent=("Sign In", "Forgot your password", "Password"))


def test_the_sign_up_page_is_german(db):
    html = page(german(Client()), reverse("account_signup"))
    assert_german(html, "Registrieren", "E-Mail", "Passwort", absent=("Sign Up", "Password (again)", "Find a charger"))


def test_the_signed_in_overview_is_german(de_client, person):
    html = page(de_client, reverse("portal:home"))
    assert_german(html, f"Hallo {person.customer.name}", "Übersicht", "Lädt gerade", "Kein Ladevorgang aktiv.",
                  "Ladevorgänge", "Karten", "Zahlungen", "Konto", "Abmelden",
                  absent=(*ENGLISH_NAV, "Hello,", "No session in progress"))


def test_the_cards_page_is_german(de_client, person):
    IdTokenFactory(customer=person.customer, user=person, label="Blaue Karte", visual_number="EVB-0001-2345")
    html = page(de_client, reverse("portal:cards"))
    assert_german(html, "Ladekarten", "Karten dieses Kontos", "Blaue Karte", "endet auf", "Neue Karte verknüpfen",
                  "Aktivierungscode", "Karte bestellen", absent=(*ENGLISH_NAV, "Link a new card", "Order a card"))


def test_the_sessions_page_is_german(de_client, person):
    token = IdTokenFactory(customer=person.customer)
    started = datetime(2026, 6, 3, 7, 0, tzinfo=UTC)
    ChargingSessionFactory(id_token=token, started_at=started, stopped_at=started + timedelta(minutes=75),
                           meter_stop_wh=1_020_000, state="completed", needs_review=True)
    html = page(de_client, reverse("portal:sessions"))
    assert_german(html, "Ihre Ladevorgänge", "Monat", "Alle Karten", "Anzeigen", "Als CSV herunterladen",
                  "1 Ladevorgang", "Ortszeit", "Standort", "Dauer", "wird geprüft", "20,00 kWh",
                  absent=(*ENGLISH_NAV, "Your charging sessions", "Download as CSV", "under review", "1 session"))


def test_the_session_csv_has_german_column_names(de_client):
    response = de_client.get(reverse("portal:sessions-csv"))
    assert response.status_code == 200
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert "Start (Ortszeit)" in header and "Ladepunkt" in header and "Preis inkl. MwSt." in header


def test_the_invoices_page_is_german(de_client):
    html = page(de_client, reverse("portal:invoices"))
    assert_german(html, "Rechnungen und Rechnungskorrekturen", "Noch keine Rechnungen",
                  absent=(*ENGLISH_NAV, "Invoices and credit notes", "No invoices yet"))


def test_the_payments_overview_is_german(de_client):
    html = page(de_client, reverse("portal:money"))
    assert_german(html, "Zahlungen", "Offener Betrag", "Nichts offen", "Treuepunkte", "Zahlungsmethoden",
                  "Sie haben keine offenen Rechnungen.", absent=("Open amount", "Payment methods", "Find a charger"))


def test_the_payment_methods_page_is_german(de_client):
    html = page(de_client, reverse("portal:payment-methods"))
    assert_german(html, "Zahlungsmethoden", "Sie haben noch keine Zahlungskarte gespeichert",
                  absent=(*ENGLISH_NAV, "Payment methods", "You have not saved a card yet"))


def test_the_profile_page_is_german(de_client):
    html = page(de_client, reverse("portal:profile"))
    assert_german(html, "Ihr Konto", "Kundennummer", "Rechnungsdaten", "Rechnungsdaten speichern",
                  "Straße und Hausnummer", "Postleitzahl", "Passwort ändern", "Datenschutz",
                  absent=(*ENGLISH_NAV, "Your account", "Billing details"))


def test_the_membership_page_is_german(de_client):
    html = page(de_client, reverse("portal:loyalty"))
    assert_german(html, "Mitgliedschaft und Punkte", "Aktionscode", "Einlösen", "Punkteverlauf",
                  absent=(*ENGLISH_NAV, "Membership and points", "Redeem"))


def test_the_start_page_is_german(de_client, person, connector):
    IdTokenFactory(customer=person.customer, user=person, label="Blaue Karte", visual_number="EVB-0001-2345")
    html = page(de_client, reverse("portal:start", args=[connector.evse.evse_id]))
    assert_german(html, "Laden an DE*EVB*E00077*1", "Ihr Preis", "0,4641 EUR/kWh", "inkl. 19 % MwSt.",
                  "Starten", "Laden mit", "Blaue Karte", "App (keine Karte nötig)", "Laden starten",
                  absent=(*ENGLISH_NAV, "Your price", "Charge with", "incl. 19 % VAT", "This app"))


def test_a_refusal_on_the_start_page_is_german(de_client, connector):
    connector.status = ConnectorStatus.CHARGING
    connector.save(update_fields=["status"])
    html = page(de_client, reverse("portal:start", args=[connector.evse.evse_id]))
    assert_german(html, "Dieser Ladepunkt ist belegt. Bitte wählen Sie einen anderen.", "Erneut prüfen",
                  absent=("This charging point is in use", "Check again"))


def test_back_to_english_with_the_same_switcher(de_client):
    de_client.post(reverse("set_language"), {"language": "en", "next": "/portal/"})
    html = page(de_client, reverse("portal:home"))
    assert 'lang="en"' in html and "Find a charger" in html and "Ladestation finden" not in html


# --- the catalogue -------------------------------------------------------------------------------------------
def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line) for line in lines)


def _read_entry(block: str) -> dict:
    entry = {"flags": set(), "msgstr": {}, "msgctxt": None, "msgid_plural": None}
    fields: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[-1][1].append(line)
        else:
            key, _, rest = line.partition(" ")
            fields.append((key, [rest]))
    for key, lines in fields:
        if key.startswith("msgstr["):
            entry["msgstr"][int(key[7:-1])] = _unquote(lines)
        elif key == "msgstr":
            entry["msgstr"][0] = _unquote(lines)
        else:
            entry[key] = _unquote(lines)
    return entry


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file (obsolete '#~' ones left out): flags, msgctxt, msgid, msgid_plural, msgstr[n]."""
    entries = [_read_entry(block) for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))]
    return [entry for entry in entries if "msgid" in entry]


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    return read_po(PO)


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    header = next(e for e in catalogue if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]
    assert "Language: de\n" in header["msgstr"][0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"][0]
    entries = [e for e in catalogue if e["msgid"]]
    assert len(entries) > 500
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []
    untranslated = [e["msgid"] for e in entries
                    if not e["msgstr"] or any(not text.strip() for text in e["msgstr"].values())
                    or (e["msgid_plural"] and sorted(e["msgstr"]) != [0, 1])]
    assert untranslated == []


PLACEHOLDER = re.compile(r"%(?:\([a-zA-Z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]|\{[a-zA-Z_0-9]*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def test_translations_keep_every_placeholder_and_html_tag(catalogue):
    wrong = []
    for e in (e for e in catalogue if e["msgid"]):
        sources = [e["msgid"], e["msgid_plural"]] if e["msgid_plural"] else [e["msgid"]]
        for index, text in sorted(e["msgstr"].items()):
            source = sources[min(index, len(sources) - 1)]
            placeholders = sorted(PLACEHOLDER.findall(text))
            # A singular may leave out the count ("Ihre Karte bleibt ...") but never invent or lose a name.
            if placeholders != sorted(PLACEHOLDER.findall(source)) and not (
                    e["msgid_plural"] and set(placeholders) <= set(PLACEHOLDER.findall(e["msgid_plural"]))):
                wrong.append((source, text))
            if sorted(TAG.findall(text)) != sorted(TAG.findall(source)):
                wrong.append((source, text))
    assert wrong == []


def test_the_compiled_catalogue_matches_the_po(catalogue):
    """django.mo is committed (fresh machines need no gettext tools): it must be compiled from this .po."""
    with MO.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)
    stale = []
    for e in (e for e in catalogue if e["msgid"]):
        msgid = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
        if e["msgid_plural"]:
            got = [compiled.ngettext(msgid, e["msgid_plural"], n) for n in (1, 2)]
            expected = [e["msgstr"][0], e["msgstr"][1]]
        else:
            got, expected = compiled.gettext(msgid), e["msgstr"][0]
        if got != expected:
            stale.append(e["msgid"])
    assert stale == []


# Where the driver-facing text lives: makemessages reads the same files.
DRIVER_TEMPLATES = ["templates/portal", "templates/account", "templates/allauth"]
DRIVER_PYTHON = ["customers/portal", "customers/models.py", "customers/services.py", "customers/tokens.py",
                 "customers/privacy.py", "billing/tariffs/public.py", "billing/portal_selectors.py",
                 "stations/selectors.py"]
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
                 "npgettext", "npgettext_lazy", "_lazy"}
CALL = re.compile(r" (n?p?gettext)\(")
STRING = re.compile(r"""u('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")(, )?""")


def _template_msgids(path: Path) -> set[tuple]:
    out = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    found = set()
    for call in CALL.finditer(out):
        strings, position = [], call.end()
        while match := STRING.match(out, position):
            strings.append(ast.literal_eval(match.group(1)))
            position = match.end()
        context = strings.pop(0) if call.group(1).startswith(("pgettext", "npgettext")) else None
        found.add((context, strings[0]))
    return found


def _python_msgids(path: Path) -> set[tuple]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_CALLS or not node.args:
            continue
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
        if name.startswith(("pgettext", "npgettext")):
            if len(args) > 1 and args[0] is not None and args[1] is not None:
                found.add((args[0], args[1]))
        elif args[0] is not None:
            found.add((None, args[0]))
    return found


def _files(roots: list[str], suffixes: tuple[str, ...]) -> list[Path]:
    paths = []
    for root in roots:
        path = BASE / root
        paths += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in suffixes)
    return paths


def test_every_driver_facing_string_is_in_the_german_catalogue(catalogue):
    """A string marked for translation in the portal but missing from the .po shows in English to German drivers:
    run makemessages -l de and translate it (see locale/de/LC_MESSAGES/django.po)."""
    known = {(e["msgctxt"], e["msgid"]) for e in catalogue if e["msgid"] and e["msgstr"].get(0)}
    wanted = set()
    for path in _files(DRIVER_TEMPLATES, (".html", ".txt")):
        wanted |= {(ctx, msgid, str(path.relative_to(BASE))) for ctx, msgid in _template_msgids(path)}
    for path in _files(DRIVER_PYTHON, (".py",)):
        wanted |= {(ctx, msgid, str(path.relative_to(BASE))) for ctx, msgid in _python_msgids(path)}
    assert len(wanted) > 400
    missing = sorted((where, msgid) for ctx, msgid, where in wanted if (ctx, msgid) not in known)
    assert missing == []
