from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import RechargeAttemptStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


async def add_one_pending_per_wallet(apps, schema_editor) -> None:
    # One attempt in flight per wallet, whatever the callers do.
    await schema_editor.client.execute_script(
        "CREATE UNIQUE INDEX IF NOT EXISTS recharge_attempts_one_pending"
        " ON recharge_attempts (wallet_id) WHERE status = 'PENDING';"
    )


async def drop_one_pending_per_wallet(apps, schema_editor) -> None:
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS recharge_attempts_one_pending;")

class Migration(migrations.Migration):
    dependencies = [('models', '0010_invoices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RechargeAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('wallet', fields.ForeignKeyField('models.Wallet', source_field='wallet_id', db_constraint=True, to_field='id', related_name='recharge_attempts', on_delete=OnDelete.RESTRICT)),
                ('amount_micros', fields.BigIntField()),
                ('currency_code', fields.CharField(max_length=3)),
                ('idempotency_key', fields.CharField(unique=True, max_length=64)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED', enum_type=RechargeAttemptStatus, max_length=16)),
                ('tries', fields.IntField(default=0)),
                ('gateway_reference', fields.CharField(null=True, max_length=200)),
                ('error', fields.CharField(null=True, max_length=500)),
                ('ledger_entry', fields.ForeignKeyField('models.LedgerEntry', source_field='ledger_entry_id', null=True, db_constraint=True, to_field='id', related_name='recharge_attempts', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recharge_attempts', 'app': 'models', 'indexes': [Index(fields=['wallet_id', 'status']), Index(fields=['status', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'One ask of the payment gateway, written before the gateway is called.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='InvoiceCounter',
            options={'table': 'invoice_counters', 'app': 'models', 'pk_attr': 'partner_id', 'table_description': 'The last invoice sequence a partner issued, bumped in the finalising transaction.'},
        ),
        ops.RunPython(add_one_pending_per_wallet, drop_one_pending_per_wallet),
    ]
