"""Forms of the cards pages: link a card from its carrier, order one, label one, confirm a block."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from customers.models import User


class CardLinkForm(forms.Form):
    visual_number = forms.CharField(
        label=_("Printed card number"), max_length=64,
        help_text=_("The number printed on the card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}))
    activation_code = forms.CharField(
        label=_("Activation code"), max_length=32,
        help_text=_("The code on the letter that came with the card."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}))
    label = forms.CharField(label=_("Name for this card (optional)"), max_length=100, required=False,
                            help_text=_("For example: Company car, Anna's card."))
    driver = forms.ModelChoiceField(label=_("Driver who carries the card"), queryset=User.objects.none(),
                                    required=False, empty_label=_("Me"))

    def __init__(self, *args, drivers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if drivers is None:
            del self.fields["driver"]
        else:
            self.fields["driver"].queryset = drivers
            self.fields["driver"].label_from_instance = lambda user: user.get_full_name() or user.email


class CardOrderForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), max_length=200)
    address_line1 = forms.CharField(label=_("Address"), max_length=200,
                                    widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    address_line2 = forms.CharField(label=_("Address (continued)"), max_length=200, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "address-line2"}))
    postal_code = forms.CharField(label=_("Postal code"), max_length=16,
                                  widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    city = forms.CharField(label=_("City"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    country = LazyTypedChoiceField(label=_("Country"), choices=countries,
                                   widget=forms.Select(attrs={"autocomplete": "country"}))


class CardLabelForm(forms.Form):
    label = forms.CharField(label=_("Name for this card"), max_length=100, required=False)


class CardBlockForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that a blocked card cannot be unblocked in the portal."),
        error_messages={"required": _("Please confirm that you want to block this card.")})
