"""Forms of the staff two-factor pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
                                      "size": 12}),
        help_text=_("The 6-digit code your authenticator app shows, or one of your backup codes."),
    )
