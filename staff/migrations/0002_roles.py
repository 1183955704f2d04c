"""The staff role groups (Operators, Support, Accountants, Administrators) with exactly their permissions, and the
custom command permissions: see staff/roles.py. They are ensured again after every migrate."""

from django.db import migrations


def roles_create(apps, schema_editor):
    from staff.roles import roles_ensure

    roles_ensure(apps=apps, using=schema_editor.connection.alias)


def roles_delete(apps, schema_editor):
    from staff.roles import ADMIN, OPERATOR, SUPPORT

    # The Accountants group belongs to billing's migration 0003 and stays.
    apps.get_model("auth", "Group").objects.filter(name__in=[OPERATOR, SUPPORT, ADMIN]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("stations", "0002_ocpp_central_system"),
        ("customers", "0002_customergroup"),
        ("billing", "0008_adhoc"),
        ("otp_totp", "__first__"),
        ("otp_static", "__first__"),
    ]

    operations = [
        migrations.RunPython(roles_create, roles_delete),
    ]
