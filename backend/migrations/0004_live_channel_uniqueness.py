"""A phone number, and a WhatsApp phone_number_id, belong to one live channel at a time.

Partial unique indexes (same syntax on SQLite and PostgreSQL): a DELETED
channel frees its number for a new channel.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "channels_live_phone_number": "ON channels (phone_number) WHERE status <> 'DELETED'",
    "channels_live_phone_number_id": (
        "ON channels (phone_number_id) WHERE status <> 'DELETED' AND phone_number_id IS NOT NULL"
    ),
}


async def add_indexes(apps, schema_editor) -> None:
    for name, definition in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE UNIQUE INDEX {name} {definition};")


async def drop_indexes(apps, schema_editor) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name};")


class Migration(migrations.Migration):
    dependencies = [("models", "0003_channels")]

    operations = [ops.RunPython(add_indexes, drop_indexes)]
