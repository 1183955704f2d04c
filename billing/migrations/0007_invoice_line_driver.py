# Only the driver column: written by hand, since `makemigrations billing` also picks up the ad-hoc payment
# models being built in parallel (billing/adhoc/), which get their own migration.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0006_payments"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="driver_label",
            field=models.CharField(
                blank=True,
                help_text="Company invoices: the driver of a charging line's token, e.g. 'Mehmet Yilmaz (EVB-300102)'.",
                max_length=150,
                verbose_name="driver",
            ),
        ),
    ]
