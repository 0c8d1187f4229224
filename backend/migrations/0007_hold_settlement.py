"""Record what settled each hold share, unique per channel: retries settle nothing twice."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def add_settlement_index(apps, schema_editor) -> None:
    # NULLs never collide, so only settled shares are unique per channel and cause.
    await schema_editor.client.execute_script(
        "CREATE UNIQUE INDEX IF NOT EXISTS hold_recipients_settled_by"
        " ON hold_recipients (channel_id, settled_by);"
    )


async def drop_settlement_index(apps, schema_editor) -> None:
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS hold_recipients_settled_by;")


class Migration(migrations.Migration):
    dependencies = [("models", "0006_charging_keys")]

    operations = [
        ops.AddField(
            model_name="HoldRecipient",
            name="settled_by",
            field=fields.CharField(null=True, max_length=220),
        ),
        ops.RunPython(add_settlement_index, drop_settlement_index),
    ]
