"""Make both ledgers append-only in the database itself (invariant 2 in domain/models.py).

An UPDATE or DELETE of a ledger or day entry raises, whatever code tries it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

LEDGER_TABLES = ("ledger_entries", "day_entries")


async def add_triggers(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            """
            CREATE OR REPLACE FUNCTION daybook_refuse_ledger_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger tables are append-only (%)', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in LEDGER_TABLES:
            await client.execute_script(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION daybook_refuse_ledger_change();"
            )
    else:
        for table in LEDGER_TABLES:
            for action in ("UPDATE", "DELETE"):
                await client.execute_script(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger tables are append-only'); END;"
                )


async def drop_triggers(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for table in LEDGER_TABLES:
            await client.execute_script(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        await client.execute_script("DROP FUNCTION IF EXISTS daybook_refuse_ledger_change();")
    else:
        for table in LEDGER_TABLES:
            for action in ("update", "delete"):
                await client.execute_script(f"DROP TRIGGER IF EXISTS {table}_no_{action};")


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [ops.RunPython(add_triggers, drop_triggers)]
