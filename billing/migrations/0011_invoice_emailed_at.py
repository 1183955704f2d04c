"""When an invoice or credit note was e-mailed to the customer. On PostgreSQL the immutability trigger of
0005 learns that an issued document may still record it (the function is replaced; the trigger stays)."""

from importlib import import_module

from django.db import migrations, models

immutability = import_module("billing.migrations.0005_invoice_immutability_triggers")


def _function_allowing(mutable: str) -> str:
    # The CREATE FUNCTION part of 0005's SQL, with another list of the fields an issued invoice may change.
    function = immutability.CREATE.split("CREATE TRIGGER billing_invoice_immutable")[0]
    return function.replace(immutability.MUTABLE, mutable)


MUTABLE = "ARRAY['pdf', 'pdf_sha256', 'pdf_rendered_at', 'pdf_attempts', 'pdf_error', 'paid_at', 'emailed_at']"


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_chargedetailrecord_driver_explanation")]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="emailed_at",
            field=models.DateTimeField(
                blank=True, help_text="When the document was last e-mailed to the customer.", null=True,
                verbose_name="e-mailed",
            ),
        ),
        migrations.RunPython(
            immutability._on_postgresql(_function_allowing(MUTABLE)),
            immutability._on_postgresql(_function_allowing(immutability.MUTABLE)),
        ),
    ]
