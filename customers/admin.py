"""The operator's admin for customer accounts, their ID tokens and the users who sign in.

Suspending customers and blocking tokens are plain status updates for now; they move to customers.services
(where stations' local authorisation lists and roaming partners will also be told) once it has them.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter

from billing.payments import PAYMENT_STATES, customers_filter_payment_state
from customers.models import AccountDeletionRequest, Customer, CustomerGroup, IdToken, User
from evbackoffice.admin import ReadOnlyMixin, export_as_csv, selector_filter


class IdTokenInline(admin.TabularInline):
    model = IdToken
    fields = ("uid", "type", "visual_number", "status", "expires_at", "user", "label")
    autocomplete_fields = ("user",)
    show_change_link = True
    extra = 0


class UserInline(ReadOnlyMixin, admin.TabularInline):
    """The people who sign in for this account, as read-only links (users are edited on their own page)."""

    model = User
    fields = ("username", "email", "first_name", "last_name", "fleet_role", "is_active")
    readonly_fields = fields
    show_change_link = True
    extra = 0
    verbose_name = _("user")
    verbose_name_plural = _("users")


# Where the customer stands in billing's dunning (failed collections of their invoices).
PaymentStateFilter = selector_filter(_("payment"), "payment", PAYMENT_STATES, customers_filter_payment_state)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "kind", "email", "country", "currency", "status", "token_count")
    list_filter = ("kind", "status", PaymentStateFilter, ("country", CountryFilter), "currency")
    search_fields = ("name", "email", "number", "vat_id")
    readonly_fields = ("number", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("number", "kind", "name", "status")}),
        (_("Contact"), {"fields": ("email", "phone", "language")}),
        (_("Billing address"), {
            "fields": ("address_line1", "address_line2", "postal_code", "city", "country", "vat_id", "currency"),
        }),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    inlines = (IdTokenInline, UserInline)
    actions = ("suspend", "reactivate", export_as_csv)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(token_count=Count("tokens"))

    @admin.display(description=_("tokens"), ordering="token_count")
    def token_count(self, customer: Customer) -> int:
        return customer.token_count

    @admin.action(description=_("Suspend the selected customers"), permissions=["change"])
    def suspend(self, request, queryset) -> None:
        count = queryset.filter(status=Customer.Status.ACTIVE).update(
            status=Customer.Status.SUSPENDED, updated_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d customer suspended; their tokens are refused from now on.",
                "%(count)d customers suspended; their tokens are refused from now on.",
                count,
            ) % {"count": count},
        )

    @admin.action(description=_("Reactivate the selected suspended customers"), permissions=["change"])
    def reactivate(self, request, queryset) -> None:
        # Closed accounts stay closed: reopening one is a decision, not a bulk action.
        count = queryset.filter(status=Customer.Status.SUSPENDED).update(
            status=Customer.Status.ACTIVE, updated_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext("%(count)d customer reactivated.", "%(count)d customers reactivated.", count) % {"count": count},
        )


class CustomerKindFilter(admin.ChoicesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("customer kind")  # "kind" alone reads like the token's type


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return [("expired", _("Has expired")), ("later", _("Expires later")), ("never", _("No expiry date"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "later":
            return queryset.filter(expires_at__gt=now)
        if self.value() == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


@admin.register(IdToken)
class IdTokenAdmin(admin.ModelAdmin):
    list_display = ("uid", "type", "status", "expires_at", "customer", "user", "visual_number")
    list_select_related = ("customer", "user")
    list_filter = ("status", "type", ExpiryFilter, ("customer__kind", CustomerKindFilter))
    search_fields = ("uid", "visual_number", "contract_id", "customer__name")
    autocomplete_fields = ("customer", "user")
    readonly_fields = ("created_at", "updated_at")
    actions = ("block", "unblock", export_as_csv)

    @admin.action(description=_("Block the selected tokens"), permissions=["change"])
    def block(self, request, queryset) -> None:
        count = queryset.exclude(status=IdToken.Status.BLOCKED).update(
            status=IdToken.Status.BLOCKED, updated_at=timezone.now()
        )
        self.message_user(
            request, ngettext("%(count)d token blocked.", "%(count)d tokens blocked.", count) % {"count": count}
        )

    @admin.action(description=_("Unblock the selected tokens"), permissions=["change"])
    def unblock(self, request, queryset) -> None:
        # Only blocked tokens become valid again; an expired token stays expired.
        count = queryset.filter(status=IdToken.Status.BLOCKED).update(
            status=IdToken.Status.VALID, updated_at=timezone.now()
        )
        self.message_user(
            request, ngettext("%(count)d token unblocked.", "%(count)d tokens unblocked.", count) % {"count": count}
        )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    account_fieldset = (_("Customer account"), {"fields": ("customer", "fleet_role")})
    fieldsets = (*DjangoUserAdmin.fieldsets, account_fieldset)
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, account_fieldset)
    list_display = ("username", "email", "first_name", "last_name", "customer", "fleet_role", "is_staff", "is_active")
    list_select_related = ("customer",)
    list_filter = ("is_staff", "fleet_role", "is_superuser", "is_active", "groups")
    search_fields = (*DjangoUserAdmin.search_fields, "customer__name", "customer__number")
    autocomplete_fields = ("customer",)


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    """Named sets of customers that tariffs can be assigned to (a fleet deal, employees, a partner's drivers)."""

    list_display = ("name", "member_count", "created_at")
    search_fields = ("name", "description")
    filter_horizontal = ("customers",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("customers"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, group: CustomerGroup) -> int:
        return group.member_count


@admin.register(AccountDeletionRequest)
class AccountDeletionRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Customers' requests to close their account and erase their personal data (GDPR). Requests come from the
    portal; the daily task erases an account once nothing is owed, and "waiting for" says what is still open
    (an unpaid invoice, a prepaid balance staff must refund, ...). Invoices stay until the retention date."""

    list_display = ("customer", "state", "requested_at", "requested_by", "checked_at", "erased_at",
                    "retain_invoices_until")
    list_select_related = ("customer", "requested_by")
    list_filter = ("state",)
    search_fields = ("customer__number", "customer__name")
    date_hierarchy = "requested_at"
    actions = ("erase_now",)

    @admin.action(description=_("Erase now if nothing is owed any more"))
    def erase_now(self, request, queryset) -> None:
        from customers.privacy import account_deletion_process

        pending = queryset.filter(state=AccountDeletionRequest.State.REQUESTED).order_by("pk")
        erased = sum(account_deletion_process(deletion=deletion) for deletion in pending)
        self.message_user(
            request,
            ngettext("%(count)d account erased; the others still wait (see the list).",
                     "%(count)d accounts erased; the others still wait (see the list).", erased)
            % {"count": erased},
        )
