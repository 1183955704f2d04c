"""manage.py setup_roles: make the four staff role groups hold exactly their permissions (idempotent)."""

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from staff.roles import roles_ensure


class Command(BaseCommand):
    help = "Creates or repairs the staff role groups (Operators, Support, Accountants, Administrators)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--list", action="store_true", help="Also list each role's permissions.")

    def handle(self, *args, database: str, list: bool, **options):
        for name, group in roles_ensure(using=database).items():
            codes = sorted(group.permissions.using(database).values_list("content_type__app_label", "codename"))
            self.stdout.write(f"{name}: {len(codes)} permissions")
            if list:
                for app_label, codename in codes:
                    self.stdout.write(f"  {app_label}.{codename}")
