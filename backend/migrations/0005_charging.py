from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import ConversationCategory, ConversationOrigin, HoldRecipientState, HoldStatus, PricingModel, WebhookEventStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0004_live_channel_uniqueness')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Hold',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('wallet', fields.ForeignKeyField('models.Wallet', source_field='wallet_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.RESTRICT)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='holds', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharEnumField(description='MARKETING: MARKETING\nUTILITY: UTILITY\nAUTHENTICATION: AUTHENTICATION\nAUTHENTICATION_INTERNATIONAL: AUTHENTICATION_INTERNATIONAL\nSERVICE: SERVICE\nREFERRAL_CONVERSION: REFERRAL_CONVERSION\nMARKETING_LITE: MARKETING_LITE', enum_type=ConversationCategory, max_length=32)),
                ('amount_micros', fields.BigIntField()),
                ('remaining_micros', fields.BigIntField()),
                ('status', fields.CharEnumField(description='ACTIVE: ACTIVE\nCAPTURED: CAPTURED\nRELEASED: RELEASED\nEXPIRED: EXPIRED', enum_type=HoldStatus, max_length=16)),
                ('recipients', fields.IntField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'holds', 'app': 'models', 'indexes': [Index(fields=['wallet_id', 'status', 'id']), Index(fields=['status', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'Money reserved for a broadcast: counted against ``available``, captured by its charges.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HoldRecipient',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('hold', fields.ForeignKeyField('models.Hold', source_field='hold_id', db_constraint=True, to_field='id', related_name='shares', on_delete=OnDelete.RESTRICT)),
                ('channel_id', fields.BigIntField()),
                ('recipient', fields.CharField(max_length=20)),
                ('price_micros', fields.BigIntField()),
                ('state', fields.CharEnumField(description='PENDING: PENDING\nCAPTURED: CAPTURED\nRELEASED: RELEASED', enum_type=HoldRecipientState, max_length=16)),
            ],
            options={'table': 'hold_recipients', 'app': 'models', 'unique_together': (('hold_id', 'recipient'),), 'indexes': [Index(fields=['channel_id', 'recipient', 'state'])], 'pk_attr': 'id', 'table_description': "One recipient's share of a hold."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCard',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('currency_code', fields.CharField(max_length=3)),
                ('effective_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('source', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_cards', 'app': 'models', 'indexes': [Index(fields=['currency_code', 'effective_from'])], 'pk_attr': 'id', 'table_description': 'One imported version of the rate card. The one in force at t has the latest effective_from <= t.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('card', fields.ForeignKeyField('models.RateCard', source_field='card_id', db_constraint=True, to_field='id', related_name='rates', on_delete=OnDelete.RESTRICT)),
                ('market', fields.CharField(max_length=64)),
                ('category', fields.CharEnumField(description='MARKETING: MARKETING\nUTILITY: UTILITY\nAUTHENTICATION: AUTHENTICATION\nAUTHENTICATION_INTERNATIONAL: AUTHENTICATION_INTERNATIONAL\nSERVICE: SERVICE\nREFERRAL_CONVERSION: REFERRAL_CONVERSION\nMARKETING_LITE: MARKETING_LITE', enum_type=ConversationCategory, max_length=32)),
                ('price_micros', fields.BigIntField()),
            ],
            options={'table': 'rates', 'app': 'models', 'unique_together': (('card_id', 'market', 'category'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.RESTRICT)),
                ('customer_id', fields.BigIntField()),
                ('partner_id', fields.BigIntField()),
                ('wallet_id', fields.BigIntField()),
                ('external_id', fields.CharField(max_length=200)),
                ('category', fields.CharEnumField(description='MARKETING: MARKETING\nUTILITY: UTILITY\nAUTHENTICATION: AUTHENTICATION\nAUTHENTICATION_INTERNATIONAL: AUTHENTICATION_INTERNATIONAL\nSERVICE: SERVICE\nREFERRAL_CONVERSION: REFERRAL_CONVERSION\nMARKETING_LITE: MARKETING_LITE', enum_type=ConversationCategory, max_length=32)),
                ('origin', fields.CharEnumField(description='BUSINESS_INITIATED: BUSINESS_INITIATED\nUSER_INITIATED: USER_INITIATED', enum_type=ConversationOrigin, max_length=32)),
                ('pricing_model', fields.CharEnumField(description='CBP: CBP\nPMP: PMP', enum_type=PricingModel, max_length=8)),
                ('recipient', fields.CharField(max_length=20)),
                ('market', fields.CharField(max_length=64)),
                ('billable', fields.BooleanField()),
                ('price_micros', fields.BigIntField()),
                ('rate', fields.ForeignKeyField('models.Rate', source_field='rate_id', null=True, db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.RESTRICT)),
                ('ledger_entry', fields.ForeignKeyField('models.LedgerEntry', source_field='ledger_entry_id', null=True, db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.RESTRICT)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'conversations', 'app': 'models', 'unique_together': (('channel_id', 'external_id'),), 'indexes': [Index(fields=['customer_id', 'id']), Index(fields=['channel_id', 'recipient', 'opened_at'])], 'pk_attr': 'id', 'table_description': 'A charged (or free) conversation or message: one per channel and external id, ever.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='webhook_events', on_delete=OnDelete.RESTRICT)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nPROCESSED: PROCESSED\nDEAD: DEAD', enum_type=WebhookEventStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_events', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['partner_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A webhook body as Meta sent it, stored before it is answered (rule 5).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Partner',
            name='whatsapp_app_secret',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Partner',
            name='whatsapp_verify_token',
            field=fields.CharField(null=True, max_length=200),
        ),
        # Tortoise 1.1's CreateModel does not emit Meta.constraints, so the CHECKs are added here.
        ops.AddConstraint(model_name='Hold', constraint=CheckConstraint(check='remaining_micros >= 0 AND remaining_micros <= amount_micros', name='holds_remaining_within_amount')),
        ops.AddConstraint(model_name='Rate', constraint=CheckConstraint(check='price_micros >= 0', name='rates_price_non_negative')),
        ops.AddConstraint(model_name='Conversation', constraint=CheckConstraint(check='price_micros >= 0', name='conversations_price_non_negative')),
    ]
