"""The charger finder's search form (GET: the list works without JavaScript and its URL can be shared)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from stations.models import Connector

MIN_POWER_CHOICES = [(11, _("11 kW or more")), (22, _("22 kW or more")), (50, _("50 kW or more")),
                     (150, _("150 kW or more")), (300, _("300 kW or more"))]


class ChargerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False, max_length=100, strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name, street, postcode or city"),
                                      "autocomplete": "off", "enterkeyhint": "search"}),
    )
    type = forms.ChoiceField(label=_("Connector"), required=False)
    power = forms.TypedChoiceField(
        label=_("Minimum power"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any power")), *MIN_POWER_CHOICES],
    )
    available = forms.BooleanField(label=_("Only locations with a free connector now"), required=False)
    # Set by the "near me" button from the browser's position: the list is then sorted by distance.
    lat = forms.DecimalField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lon = forms.DecimalField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def __init__(self, *args, standards: list[str], **kwargs):
        """`standards`: the connector types the network has, so the list offers only types that exist."""
        super().__init__(*args, **kwargs)
        labels = dict(Connector.Standard.choices)
        self.fields["type"].choices = [("", _("Any connector")),
                                       *[(code, labels[code]) for code in standards if code in labels]]

    def filters(self) -> dict:
        """The cleaned filters; for invalid input, no filter on that field (the form shows its error)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q") or "",
            "standard": data.get("type") or "",
            "min_power_kw": data.get("power"),
            "available_only": bool(data.get("available")),
            "origin": (float(data["lat"]), float(data["lon"]))
            if data.get("lat") is not None and data.get("lon") is not None else None,
        }
