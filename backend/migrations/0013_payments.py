"""Money in through a payment provider: accounts (secrets sealed), saved cards, payments,
provider events, and the history of partner terms; AlertKind gains PAYMENT_FAILED."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import AlertKind, PaymentPurpose, PaymentStatus, ProviderEventStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint



class DescriptionOnly(ops.AlterField):
    """The enum gained a value: only the field's description changes, never the column
    (a VARCHAR either way). Tortoise would remake the table on SQLite for it."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        return


class Migration(migrations.Migration):
    dependencies = [('models', '0012_secrets_at_rest')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PartnerTermsChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='terms_changes', on_delete=OnDelete.RESTRICT)),
                ('day_price_micros', fields.BigIntField()),
                ('trial_eligible', fields.BooleanField()),
                ('comment', fields.CharField(max_length=500)),
                ('changed_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partner_terms_changes', 'app': 'models', 'indexes': [Index(fields=['partner_id', 'id'])], 'pk_attr': 'id', 'table_description': "A change of a partner's day price or trial eligibility, kept with its comment."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentAccount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.CharField(unique=True, max_length=40)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='payment_accounts', on_delete=OnDelete.RESTRICT)),
                ('provider', fields.CharField(max_length=20)),
                ('publishable_key', fields.CharField(max_length=300)),
                ('secret_key', fields.CharField(max_length=1500)),
                ('webhook_secret', fields.CharField(max_length=1500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment_accounts', 'app': 'models', 'pk_attr': 'id', 'table_description': "A Stripe account: a partner's own (it collects from its customers) or the platform's."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentCustomer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PaymentAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='customers', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='payment_customers', on_delete=OnDelete.RESTRICT)),
                ('provider_customer_id', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment_customers', 'app': 'models', 'unique_together': (('account_id', 'customer_id'),), 'pk_attr': 'id', 'table_description': "The provider's customer object for one of our customers, at one account."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentMethod',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PaymentAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='payment_methods', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='payment_methods', on_delete=OnDelete.RESTRICT)),
                ('provider_id', fields.CharField(max_length=100)),
                ('brand', fields.CharField(max_length=40)),
                ('last4', fields.CharField(max_length=4)),
                ('exp_month', fields.IntField()),
                ('exp_year', fields.IntField()),
                ('is_default', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment_methods', 'app': 'models', 'unique_together': (('account_id', 'provider_id'),), 'indexes': [Index(fields=['customer_id', 'removed_at'])], 'pk_attr': 'id', 'table_description': "A saved card: only the provider's id, brand, last4 and expiry are ever kept."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('purpose', fields.CharEnumField(description='TOP_UP: TOP_UP\nAUTO_RECHARGE: AUTO_RECHARGE\nINVOICE: INVOICE\nDAY_PURCHASE: DAY_PURCHASE', enum_type=PaymentPurpose, max_length=16)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nREQUIRES_ACTION: REQUIRES_ACTION\nSUCCEEDED: SUCCEEDED\nFAILED: FAILED\nCANCELED: CANCELED', enum_type=PaymentStatus, max_length=16)),
                ('amount_micros', fields.BigIntField()),
                ('currency_code', fields.CharField(max_length=3)),
                ('account', fields.ForeignKeyField('models.PaymentAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('wallet', fields.ForeignKeyField('models.Wallet', source_field='wallet_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('payment_method', fields.ForeignKeyField('models.PaymentMethod', source_field='payment_method_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('days', fields.BigIntField(null=True)),
                ('day_price_micros', fields.BigIntField(null=True)),
                ('provider_reference', fields.CharField(null=True, unique=True, max_length=100)),
                ('client_secret', fields.CharField(null=True, max_length=300)),
                ('idempotency_scope', fields.CharField(max_length=64)),
                ('idempotency_key', fields.CharField(max_length=200)),
                ('failure_code', fields.CharField(null=True, max_length=100)),
                ('failure_message', fields.CharField(null=True, max_length=500)),
                ('refunded_micros', fields.BigIntField(default=0)),
                ('disputed_micros', fields.BigIntField(default=0)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('day_entry', fields.ForeignKeyField('models.DayEntry', source_field='day_entry_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('recharge_attempt', fields.ForeignKeyField('models.RechargeAttempt', source_field='recharge_attempt_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payments', 'app': 'models', 'unique_together': (('idempotency_scope', 'idempotency_key'),), 'constraints': [CheckConstraint(check='amount_micros > 0', name='payments_amount_positive'), CheckConstraint(check="(status = 'SUCCEEDED') OR (entry_id IS NULL AND day_entry_id IS NULL)", name='payments_posted_only_when_succeeded')], 'indexes': [Index(fields=['wallet_id', 'id']), Index(fields=['partner_id', 'purpose', 'id'])], 'pk_attr': 'id', 'table_description': 'Money asked of a provider: it posts a movement only once SUCCEEDED, once per intent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProviderEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.PaymentAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('provider_event_id', fields.CharField(max_length=100)),
                ('type', fields.CharField(max_length=100)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nPROCESSED: PROCESSED\nIGNORED: IGNORED\nDEAD: DEAD', enum_type=ProviderEventStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('error', fields.CharField(null=True, max_length=1000)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', null=True, db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'provider_events', 'app': 'models', 'unique_together': (('account_id', 'provider_event_id'),), 'indexes': [Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'An event the provider POSTed, stored before it is answered (rule 5).'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='Alert',
            name='kind',
            field=fields.CharEnumField(description='LOW_BALANCE: LOW_BALANCE\nLOW_DAYS: LOW_DAYS\nCHANNEL_EXPIRING: CHANNEL_EXPIRING\nCHANNEL_EXPIRED: CHANNEL_EXPIRED\nAUTO_RECHARGE_FAILED: AUTO_RECHARGE_FAILED\nINVOICE_OVERDUE: INVOICE_OVERDUE\nPAYMENT_FAILED: PAYMENT_FAILED', enum_type=AlertKind, max_length=32),
        ),
    ]
