"""The uniqueness charging depends on, created explicitly (same SQL on SQLite and PostgreSQL).

- one conversation per (channel, external id), ever: exactly-once charging;
- one rate per (card, market, category).
The models' ``unique_together`` states the same; Tortoise 1.1 did not emit it
for these tables, and these rules are not to be left to chance.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "conversations_channel_external_id": "ON conversations (channel_id, external_id)",
    "rates_card_market_category": "ON rates (card_id, market, category)",
    "hold_recipients_hold_recipient": "ON hold_recipients (hold_id, recipient)",
}


async def add_indexes(apps, schema_editor) -> None:
    for name, definition in INDEXES.items():
        await schema_editor.client.execute_script(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {name} {definition};"
        )


async def drop_indexes(apps, schema_editor) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name};")


class Migration(migrations.Migration):
    dependencies = [("models", "0005_charging")]

    operations = [ops.RunPython(add_indexes, drop_indexes)]
