"""Secrets at rest: the secret columns widen to hold Fernet tokens, then the secrets
stored in clear until now are encrypted with the first key (backend/secret_box.py)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from backend import secret_box


class WidenColumn(ops.AlterField):
    """A longer VARCHAR. SQLite ignores the length, and Tortoise would remake the whole
    table there (failing on the foreign keys of a database with rows): PostgreSQL only."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_backward(app_label, old_state, new_state, state_editor)


# The secret columns as of this migration (later ones add their own tables).
COLUMNS = (("partners", "whatsapp_app_secret"), ("alert_webhooks", "secret"))


async def seal_secrets_in_clear(apps, schema_editor) -> None:
    # Every value before this migration is in clear; from here on only sealed ones are written.
    await secret_box.transform_stored(schema_editor.client, secret_box.seal, COLUMNS)


async def open_sealed_secrets(apps, schema_editor) -> None:
    await secret_box.transform_stored(schema_editor.client, secret_box.open_sealed, COLUMNS)


class Migration(migrations.Migration):
    dependencies = [("models", "0011_recharge_attempts")]

    initial = False

    operations = [
        WidenColumn(
            model_name="Partner",
            name="whatsapp_app_secret",
            field=fields.CharField(null=True, max_length=1500),
        ),
        WidenColumn(
            model_name="AlertWebhook",
            name="secret",
            field=fields.CharField(max_length=500),
        ),
        ops.RunPython(seal_secrets_in_clear, open_sealed_secrets),
    ]
