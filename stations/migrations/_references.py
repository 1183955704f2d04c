"""A foreign key checked once per statement instead of once per row, on PostgreSQL, for the busiest tables.

PostgreSQL checks a foreign key with one query per inserted row and key, deferred to COMMIT. The OCPP group
writer inserts a few hundred meter values and journal frames per transaction, each meter value with three keys:
those checks were a third of PostgreSQL's CPU under OCPP load and most of each batch's commit time
(benchmarks/README.md). `CheckReferencesPerStatement` replaces such a constraint with triggers that enforce the
same rule, set-based:

- after each INSERT into the referencing table, one query locks every referenced row FOR KEY SHARE (as the
  row-level check does, so that none can be deleted until this transaction ends) and one refuses the statement
  if any reference is missing;
- an UPDATE of the referencing column, and a DELETE or key change of a referenced row that is still referenced,
  are refused too (NO ACTION, like Django's constraints: Django deletes the referencing rows first).

Both sides raise `foreign_key_violation`, so Django raises IntegrityError as for a constraint. The checks run at
the end of each statement rather than at COMMIT (the writer inserts rows whose parents are already committed): a
fixture listing a meter value before its session would no longer load (dumpdata writes parents first).
Nothing changes in Django's model state, and nothing on other databases (SQLite keeps its constraint): the model
still declares an ordinary foreign key. A later migration that removes or renames such a column must first
reverse this operation for it (the triggers name the column).
"""

from django.db import migrations


def _names(model, field_name, connection):
    field = model._meta.get_field(field_name)
    parent = field.related_model
    return {
        "child": model._meta.db_table,
        "column": field.column,
        "parent": parent._meta.db_table,
        "key": field.target_field.column,
        "prefix": f"{model._meta.db_table}_{field.column}",
        "type": field.db_type(connection),  # the key's type, e.g. bigint
    }


def _function(name: str, declare: str, body: str, settings: str = "") -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql{settings} AS $$\nDECLARE\n{declare}\n"
            f"BEGIN\n{body}\n    RETURN NULL;\nEND $$")


def _create_sql(quote, n: dict) -> list[str]:
    child, column, parent, key = quote(n["child"]), quote(n["column"]), quote(n["parent"]), quote(n["key"])
    prefix = n["prefix"]
    refused = (f"'insert or update on table \"{n['child']}\" violates foreign key \"{n['prefix']}\"' USING "
               f"ERRCODE = 'foreign_key_violation', DETAIL = format('Key ({n['column']})=(%s) is not present in "
               f"table \"{n['parent']}\".', missing)")
    still = (f"'update or delete on table \"{n['parent']}\" violates foreign key \"{n['prefix']}\" on table "
             f"\"{n['child']}\"' USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key ({n['key']})=(%s) "
             f"is still referenced from table \"{n['child']}\".', kept)")
    return [
        # The inserted rows, all at once: their distinct keys, locked through the primary key's index. The plan
        # is cached with the function, and one made while a table was small (a new installation, or before its
        # first ANALYZE) scanned the whole table for every statement ever after: a statement's keys are a few
        # hundred at most, so the index is always the way (enable_seqscan off, for this function only). Only
        # when fewer rows were locked than keys asked is one of them looked for, to name it.
        _function(f"{prefix}_inserted", f"    keys {n['type']}[];\n    locked bigint;\n    missing text;", f"""\
    SELECT array_agg(DISTINCT n.{column}) INTO keys FROM new_rows n WHERE n.{column} IS NOT NULL;
    IF keys IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM 1 FROM {parent} p WHERE p.{key} = ANY(keys) ORDER BY p.{key} FOR KEY SHARE OF p;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < cardinality(keys) THEN
        SELECT k INTO missing FROM unnest(keys) AS k
            WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = k) LIMIT 1;
        RAISE EXCEPTION {refused};
    END IF;""", settings=" SET enable_seqscan = off"),
        f"""CREATE TRIGGER {prefix}_inserted AFTER INSERT ON {child} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_inserted()""",
        # A changed reference, row by row: these rows are written once and never updated on the hot path.
        _function(f"{prefix}_changed", f"    missing text := NEW.{column};", f"""\
    PERFORM 1 FROM {parent} p WHERE p.{key} = NEW.{column} FOR KEY SHARE OF p;
    IF NOT FOUND THEN
        RAISE EXCEPTION {refused};
    END IF;"""),
        f"""CREATE TRIGGER {prefix}_changed AFTER UPDATE OF {column} ON {child} FOR EACH ROW
    WHEN (NEW.{column} IS NOT NULL AND NEW.{column} IS DISTINCT FROM OLD.{column})
    EXECUTE FUNCTION {prefix}_changed()""",
        # Deleted referenced rows, all at once (the referencing column is indexed: one probe per row).
        _function(f"{prefix}_parent_deleted", "    kept text;", f"""\
    SELECT o.{key} INTO kept FROM old_rows o WHERE EXISTS (SELECT 1 FROM {child} c WHERE c.{column} = o.{key})
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION {still};
    END IF;"""),
        f"""CREATE TRIGGER {prefix}_parent_deleted AFTER DELETE ON {parent} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_parent_deleted()""",
        # A referenced row's key changed (Django never updates a primary key; raw SQL could).
        _function(f"{prefix}_parent_changed", f"    kept text := OLD.{key};", f"""\
    IF EXISTS (SELECT 1 FROM {child} c WHERE c.{column} = OLD.{key}) THEN
        RAISE EXCEPTION {still};
    END IF;"""),
        f"""CREATE TRIGGER {prefix}_parent_changed AFTER UPDATE OF {key} ON {parent} FOR EACH ROW
    WHEN (NEW.{key} IS DISTINCT FROM OLD.{key}) EXECUTE FUNCTION {prefix}_parent_changed()""",
    ]


def _drop_sql(quote, n: dict) -> list[str]:
    prefix, child, parent = n["prefix"], quote(n["child"]), quote(n["parent"])
    return [
        f"DROP TRIGGER IF EXISTS {prefix}_inserted ON {child}",
        f"DROP TRIGGER IF EXISTS {prefix}_changed ON {child}",
        f"DROP TRIGGER IF EXISTS {prefix}_parent_deleted ON {parent}",
        f"DROP TRIGGER IF EXISTS {prefix}_parent_changed ON {parent}",
        *(f"DROP FUNCTION IF EXISTS {prefix}_{name}()"
          for name in ("inserted", "changed", "parent_deleted", "parent_changed")),
    ]


class CheckReferencesPerStatement(migrations.operations.base.Operation):
    """On PostgreSQL, replace the foreign-key constraint of `model_name.field_name` with per-statement triggers
    (see the module's docstring). Reversible: backwards drops the triggers and re-creates the constraint."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name
        self.field_name = field_name

    def state_forwards(self, app_label, state):
        pass  # the model keeps its ordinary foreign key

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.field_name)
        for constraint in schema_editor._constraint_names(model, [field.column], foreign_key=True):
            schema_editor.execute(schema_editor._delete_fk_sql(model, constraint))
        for sql in _create_sql(schema_editor.quote_name, _names(model, self.field_name, schema_editor.connection)):
            schema_editor.execute(sql, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        for sql in _drop_sql(schema_editor.quote_name, _names(model, self.field_name, schema_editor.connection)):
            schema_editor.execute(sql)
        field = model._meta.get_field(self.field_name)
        schema_editor.execute(schema_editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s"))

    def describe(self):
        return f"Check the references of {self.model_name}.{self.field_name} per statement (PostgreSQL)"

    @property
    def migration_name_fragment(self):
        return f"check_{self.model_name.lower()}_{self.field_name.lower()}_per_statement"

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "field_name": self.field_name}
