"""Forms of the account pages: the person's own name, the account's billing details, fleet invitations and the
deletion confirmation. Model rules (VAT id format and country prefix, required address) are checked by the
model's full_clean() through the ModelForm, so the portal and the admin refuse the same things."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, User


class PersonalForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]
        labels = {"first_name": _("First name"), "last_name": _("Last name")}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }


class BillingForm(forms.ModelForm):
    """The account's billing details. `kind` is chosen once, when the account is opened."""

    class Meta:
        model = Customer
        fields = ["kind", "name", "vat_id", "email", "phone", "address_line1", "address_line2", "postal_code",
                  "city", "country", "language"]
        labels = {
            "kind": _("Account for"),
            "name": _("Full name, or the company's legal name"),
            "vat_id": _("VAT id (companies)"),
            "email": _("E-mail for invoices"),
            "phone": _("Phone"),
            "address_line1": _("Street and number"),
            "address_line2": _("Address (continued)"),
            "postal_code": _("Postal code"),
            "city": _("City"),
            "country": _("Country"),
            "language": _("Language for the portal, e-mails and invoices"),
        }
        help_texts = {
            "name": _("Printed on your invoices."),
            "vat_id": _("With its country prefix, e.g. DE123456789. Leave empty if you have none."),
            "phone": _("Optional: for questions about a charging session."),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "country": forms.Select(attrs={"autocomplete": "country"}),
            "vat_id": forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
        }

    def __init__(self, *args, opening: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(Customer.Kind.PERSON, _("Myself (private)")),
                                       (Customer.Kind.COMPANY, _("A company with one or more drivers"))]
        if not opening:
            del self.fields["kind"]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.FleetRole.choices, initial=User.FleetRole.DRIVER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=User.FleetRole.choices)


class DeletionForm(forms.Form):
    """Closing an account cannot be undone by the driver: the password proves it is them, not someone at an
    unlocked phone."""

    password = forms.CharField(label=_("Your password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    confirm = forms.BooleanField(label=_("I understand that my account is closed and my cards stop working now."))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password
