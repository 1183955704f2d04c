"""The account pages and e-mails (django-allauth) speak to German drivers formally, as the portal does ("Sie"):
allauth's own German says "du", so customers/allauth_texts.py keeps the texts our pages show in our catalogue,
which Django consults first."""

import glob
import re
from html import unescape
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from customers.allauth_texts import ALLAUTH_TEXTS
from tests.portal.conftest import signed_in
from tests.portal.test_german import PO, read_po

#: "du" and its forms as whole words (German capitalises "Du" at a sentence's start).
INFORMAL = re.compile(r"\b(du|dein\w*|dich|dir)\b", re.IGNORECASE)
ALLAUTH_PO = Path(allauth.__file__).parent / "locale" / "de" / "LC_MESSAGES" / "django.po"


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def visible_text(html: str) -> str:
    """What a reader sees: no tags (an HTML attribute such as dir="ltr" is not a word on the page)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def german_page(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    assert 'lang="de"' in html, url
    return visible_text(html)


def assert_formal(text: str, where: str) -> None:
    found = sorted({match.group(0) for match in INFORMAL.finditer(text)})
    assert found == [], (where, found, text[:2000])


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password",
                                  "account_reset_password_done", "account_email_verification_sent"])
def test_the_german_account_pages_are_formal(db, name):
    text = german_page(Client(), reverse(name))

    assert_formal(text, name)
    assert "Sie" in text or "Ihr" in text or name == "account_reset_password_done"


def test_the_sign_in_page_invites_to_sign_up_formally(db):
    text = german_page(Client(), reverse("account_login"))

    assert "Sie haben noch kein Konto?" in text and "Du hast" not in text


def test_the_sign_up_page_invites_to_sign_in_formally(db):
    assert "Sie haben bereits ein Konto?" in german_page(Client(), reverse("account_signup"))


def test_the_password_reset_page_is_formal(db):
    text = german_page(Client(), reverse("account_reset_password"))

    assert "Geben Sie unten Ihre E-Mail-Adresse ein" in text


@pytest.mark.parametrize("name", ["account_logout", "account_change_password", "account_email"])
def test_the_signed_in_account_pages_are_formal(person, name):
    assert_formal(german_page(signed_in(person), reverse(name)), name)


def test_the_password_reset_email_is_formal(person):
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": person.email}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302

    [sent] = mail.outbox
    assert_formal(sent.subject + "\n" + sent.body, "password reset e-mail")
    assert "Sie erhalten diese E-Mail" in sent.body


def test_the_sign_up_confirmation_email_is_formal(db):
    client = Client()
    password = "ein-sehr-sicheres-Passwort-42"
    response = client.post(reverse("account_signup"), {"email": "neu@example.com", "password1": password,
                                                       "password2": password}, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 302

    [sent] = mail.outbox
    assert_formal(sent.subject + "\n" + sent.body, "confirmation e-mail")
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse" in sent.subject


def _msgids(path: Path) -> dict[str, dict]:
    return {entry["msgid"]: entry for entry in read_po(path) if entry["msgid"] and entry["msgctxt"] is None}


def test_every_listed_text_is_allauths_and_formal_in_our_catalogue():
    """A msgid that drifted from allauth's (an upgrade reworded it) would silently fall back to allauth's "du"."""
    assert ALLAUTH_PO.is_file() or glob.glob(str(ALLAUTH_PO))
    theirs, ours = _msgids(ALLAUTH_PO), _msgids(PO)
    assert [text for text in ALLAUTH_TEXTS if text not in theirs] == []
    for text in ALLAUTH_TEXTS:
        translated = ours[text]["msgstr"][0]
        assert translated, text
        assert not INFORMAL.search(translated), (text, translated)
    with translation.override("de"):
        assert translation.gettext(ALLAUTH_TEXTS[0]) == ours[ALLAUTH_TEXTS[0]]["msgstr"][0]  # ours wins
