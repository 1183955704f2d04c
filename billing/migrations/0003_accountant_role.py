"""The Accountants group (read-only invoices, lines, charge records, customers): see billing/accounting/roles.py."""

from django.db import migrations


def accountant_role_create(apps, schema_editor):
    from billing.accounting.roles import accountant_role_ensure

    accountant_role_ensure(apps=apps, using=schema_editor.connection.alias)


def accountant_role_delete(apps, schema_editor):
    from billing.accounting.roles import ACCOUNTANT_GROUP

    apps.get_model("auth", "Group").objects.filter(name=ACCOUNTANT_GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("billing", "0002_invoices"),
        ("customers", "0002_customergroup"),
    ]

    operations = [
        migrations.RunPython(accountant_role_create, accountant_role_delete),
    ]
