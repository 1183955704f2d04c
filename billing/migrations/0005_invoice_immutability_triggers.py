"""On PostgreSQL, the database itself refuses to change an issued invoice or its lines, whoever writes (raw SQL,
another program, a bug that bypasses Invoice.save()). Only the rendering's fields (the PDF, its hash and time,
each set once while empty; attempts and error) and the payment time may still change. SQLite has no such
triggers: there the model code (Invoice.save/delete, InvoiceLine.save/delete) is the guard."""

from django.db import migrations

MUTABLE = "ARRAY['pdf', 'pdf_sha256', 'pdf_rendered_at', 'pdf_attempts', 'pdf_error', 'paid_at']"

CREATE = f"""
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'issued' THEN
            RAISE EXCEPTION 'issued invoice % cannot be deleted', OLD.number USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'issued' THEN
        IF (to_jsonb(NEW) - {MUTABLE}) IS DISTINCT FROM (to_jsonb(OLD) - {MUTABLE}) THEN
            RAISE EXCEPTION 'issued invoice % cannot be changed', OLD.number USING ERRCODE = 'restrict_violation';
        END IF;
        IF (OLD.pdf <> '' AND NEW.pdf IS DISTINCT FROM OLD.pdf)
           OR (OLD.pdf_sha256 <> '' AND NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256)
           OR (OLD.pdf_rendered_at IS NOT NULL AND NEW.pdf_rendered_at IS DISTINCT FROM OLD.pdf_rendered_at) THEN
            RAISE EXCEPTION 'the PDF of issued invoice % is written once', OLD.number
                USING ERRCODE = 'restrict_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_immutable
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE OR REPLACE FUNCTION billing_invoiceline_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
        SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND status = 'issued'
    ) THEN
        RAISE EXCEPTION 'the lines of an issued invoice cannot change' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
        SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND status = 'issued'
    ) THEN
        RAISE EXCEPTION 'the lines of an issued invoice cannot change' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_immutable();
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_immutable();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no interpolation: the SQL holds RAISE's % markers

    return run


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_invoice_lines_exact")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
