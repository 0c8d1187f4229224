from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.domain.models import DayEntryKind, LedgerEntryKind, Role
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('scope', fields.CharField(max_length=64)),
                ('key', fields.CharField(max_length=200)),
                ('operation', fields.CharField(max_length=64)),
                ('request_hash', fields.CharField(max_length=64)),
                ('result', fields.TextField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotency_records', 'app': 'models', 'unique_together': (('scope', 'key'),), 'pk_attr': 'id', 'table_description': 'What a mutation sent with an idempotency key did, so a retry can be answered alike.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Partner',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('currency_code', fields.CharField(max_length=3)),
                ('day_price_micros', fields.BigIntField()),
                ('markup_percent_micros', fields.BigIntField(default=0)),
                ('trial_eligible', fields.BooleanField(default=False)),
                ('day_balance', fields.BigIntField(default=0)),
                ('low_days_threshold', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'partners', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DayEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='day_entries', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='PURCHASE: PURCHASE\nALLOCATION: ALLOCATION\nTRIAL: TRIAL\nTRIAL_FUNDED: TRIAL_FUNDED\nREFUND: REFUND\nADJUSTMENT: ADJUSTMENT', enum_type=DayEntryKind, max_length=32)),
                ('days', fields.BigIntField()),
                ('day_balance_after', fields.BigIntField()),
                ('comment', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'day_entries', 'app': 'models', 'indexes': [Index(fields=['partner_id', 'id']), Index(fields=['partner_id', 'kind', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Plan',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='plans', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('monthly_fee_micros', fields.BigIntField()),
                ('currency_code', fields.CharField(max_length=3)),
                ('tax_rate_percent_micros', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plans', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='customers', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('plan', fields.ForeignKeyField('models.Plan', source_field='plan_id', null=True, db_constraint=True, to_field='id', related_name='customers', on_delete=OnDelete.RESTRICT)),
                ('suspended', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customers', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('prefix', fields.CharField(unique=True, max_length=32)),
                ('key_hash', fields.CharField(max_length=64)),
                ('role', fields.CharEnumField(description='ADMIN: ADMIN\nPARTNER: PARTNER\nCUSTOMER: CUSTOMER', enum_type=Role, max_length=16)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_keys', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Wallet',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='wallet', on_delete=OnDelete.RESTRICT)),
                ('currency_code', fields.CharField(max_length=3)),
                ('balance_micros', fields.BigIntField(default=0)),
                ('held_micros', fields.BigIntField(default=0)),
                ('credit_limit_micros', fields.BigIntField(default=0)),
                ('low_balance_threshold_micros', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wallets', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('wallet', fields.ForeignKeyField('models.Wallet', source_field='wallet_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='TOP_UP: TOP_UP\nAUTO_RECHARGE: AUTO_RECHARGE\nCONVERSATION_CHARGE: CONVERSATION_CHARGE\nINTEGRATION_CHARGE: INTEGRATION_CHARGE\nHOLD: HOLD\nHOLD_RELEASE: HOLD_RELEASE\nINVOICE_PAYMENT: INVOICE_PAYMENT\nREFUND: REFUND\nADJUSTMENT: ADJUSTMENT', enum_type=LedgerEntryKind, max_length=32)),
                ('amount_micros', fields.BigIntField()),
                ('balance_after_micros', fields.BigIntField()),
                ('comment', fields.CharField(null=True, max_length=500)),
                ('reference', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_entries', 'app': 'models', 'indexes': [Index(fields=['wallet_id', 'id']), Index(fields=['wallet_id', 'kind', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        # Tortoise 1.1's CreateModel does not emit Meta.constraints, so the CHECKs are added here.
        ops.AddConstraint(model_name='Partner', constraint=CheckConstraint(check='day_balance >= 0', name='partners_day_balance_non_negative')),
        ops.AddConstraint(model_name='Partner', constraint=CheckConstraint(check='day_price_micros >= 0', name='partners_day_price_non_negative')),
        ops.AddConstraint(model_name='Partner', constraint=CheckConstraint(check='markup_percent_micros >= 0', name='partners_markup_non_negative')),
        ops.AddConstraint(model_name='DayEntry', constraint=CheckConstraint(check='day_balance_after >= 0', name='day_entries_balance_non_negative')),
        ops.AddConstraint(model_name='Plan', constraint=CheckConstraint(check='monthly_fee_micros >= 0', name='plans_fee_non_negative')),
        ops.AddConstraint(model_name='Plan', constraint=CheckConstraint(check='tax_rate_percent_micros >= 0 AND tax_rate_percent_micros <= 100000000', name='plans_tax_rate_range')),
        ops.AddConstraint(model_name='ApiKey', constraint=CheckConstraint(check="(role = 'ADMIN' AND partner_id IS NULL AND customer_id IS NULL) OR (role = 'PARTNER' AND partner_id IS NOT NULL AND customer_id IS NULL) OR (role = 'CUSTOMER' AND partner_id IS NOT NULL AND customer_id IS NOT NULL)", name='api_keys_role_matches_tenant')),
        ops.AddConstraint(model_name='Wallet', constraint=CheckConstraint(check='held_micros >= 0', name='wallets_held_non_negative')),
        ops.AddConstraint(model_name='Wallet', constraint=CheckConstraint(check='credit_limit_micros >= 0', name='wallets_credit_limit_non_negative')),
        ops.AddConstraint(model_name='LedgerEntry', constraint=CheckConstraint(check='amount_micros <> 0', name='ledger_entries_amount_non_zero')),
    ]
