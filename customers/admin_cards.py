"""The operator's admin for RFID cards in stock and drivers' card orders.

A card in stock is created with its UID and printed number; its activation code is generated, shown to the
member of staff once (to print on the card carrier) and stored only as a hash. An order is fulfilled by
choosing the card sent: the order becomes "sent", and the driver links the card in the portal.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from customers.models import CardOrder, CardStock
from customers.tokens import card_order_mark_sent, card_stock_create, card_stock_new_code


class CardStockForm(forms.ModelForm):
    class Meta:
        model = CardStock
        fields = ("uid", "visual_number", "type")


@admin.register(CardStock)
class CardStockAdmin(admin.ModelAdmin):
    form = CardStockForm
    list_display = ("visual_number", "uid", "type", "linked_token", "linked_at", "created_at")
    list_filter = ("type", ("linked_token", admin.EmptyFieldListFilter))
    search_fields = ("visual_number", "uid")
    readonly_fields = ("linked_token", "linked_at", "created_at")
    actions = ("new_activation_codes",)

    def get_readonly_fields(self, request, obj=None):
        # A produced card's identity does not change; a linked card is part of a customer's account.
        return (*self.readonly_fields, "uid", "visual_number", "type") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of a card in stock is editable after creation
        card, code = card_stock_create(uid=obj.uid, visual_number=obj.visual_number, type=obj.type)
        obj.pk, obj.activation_code_hash = card.pk, card.activation_code_hash
        self.message_user(request, format_html(
            _("Card {} created. Activation code: <strong>{}</strong>. It is shown only now: print it on the card "
              "carrier."), card.visual_number, code), messages.WARNING)

    @admin.action(description=_("Generate new activation codes (unlinked cards)"))
    def new_activation_codes(self, request, queryset):
        for card in queryset.filter(linked_token__isnull=True).order_by("visual_number"):
            code = card_stock_new_code(card=card)
            self.message_user(request, format_html(_("{}: new activation code <strong>{}</strong>"),
                                                   card.visual_number, code), messages.WARNING)


@admin.register(CardOrder)
class CardOrderAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "customer", "city", "country", "state", "card")
    list_filter = ("state",)
    search_fields = ("recipient", "customer__name", "customer__number", "city", "card__visual_number")
    autocomplete_fields = ("card",)
    readonly_fields = ("customer", "user", "state", "created_at", "updated_at")
    fields = ("customer", "user", "state", "recipient", "address_line1", "address_line2", "postal_code", "city",
              "country", "card", "created_at", "updated_at")
    actions = ("cancel_orders",)

    def has_add_permission(self, request):
        return False  # drivers order in the portal

    def save_model(self, request, obj, form, change):
        card = form.cleaned_data.get("card")
        previous = CardOrder.objects.get(pk=obj.pk)
        obj.card = previous.card
        super().save_model(request, obj, form, change)
        if card is not None and previous.state == CardOrder.State.REQUESTED:
            try:
                card_order_mark_sent(order=obj, card=card)
            except ValueError as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            self.message_user(request, _("Marked as sent with card %(number)s.") % {"number": card.visual_number})

    @admin.action(description=_("Cancel selected requested orders"))
    def cancel_orders(self, request, queryset):
        count = queryset.filter(state=CardOrder.State.REQUESTED).update(state=CardOrder.State.CANCELLED)
        self.message_user(request, ngettext("%(count)d order cancelled.", "%(count)d orders cancelled.", count)
                          % {"count": count})
