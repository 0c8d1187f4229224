from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import AlertKind, ChannelStatus, LotKind, MessagingTier
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0002_append_only_ledgers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Channel',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='channels', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='channels', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('phone_number', fields.CharField(max_length=20)),
                ('phone_number_id', fields.CharField(null=True, max_length=64)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nTRIAL: TRIAL\nACTIVE: ACTIVE\nEXPIRED: EXPIRED\nDELETED: DELETED', enum_type=ChannelStatus, max_length=16)),
                ('active_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('messaging_tier', fields.CharEnumField(default=MessagingTier.TIER_250, description='TIER_250: TIER_250\nTIER_2K: TIER_2K\nTIER_10K: TIER_10K\nTIER_100K: TIER_100K\nTIER_UNLIMITED: TIER_UNLIMITED', enum_type=MessagingTier, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channels', 'app': 'models', 'indexes': [Index(fields=['partner_id', 'status', 'id']), Index(fields=['customer_id', 'status', 'id'])], 'pk_attr': 'id', 'table_description': "A customer's WhatsApp number, kept active by the partner's days."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='LOW_BALANCE: LOW_BALANCE\nLOW_DAYS: LOW_DAYS\nCHANNEL_EXPIRING: CHANNEL_EXPIRING\nCHANNEL_EXPIRED: CHANNEL_EXPIRED\nAUTO_RECHARGE_FAILED: AUTO_RECHARGE_FAILED\nINVOICE_OVERDUE: INVOICE_OVERDUE', enum_type=AlertKind, max_length=32)),
                ('message', fields.CharField(max_length=500)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', null=True, db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('wallet', fields.ForeignKeyField('models.Wallet', source_field='wallet_id', null=True, db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', null=True, db_constraint=True, to_field='id', related_name='alerts', on_delete=OnDelete.RESTRICT)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alerts', 'app': 'models', 'indexes': [Index(fields=['partner_id', 'id']), Index(fields=['customer_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Something a partner or customer must know about: stored, then pushed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelLot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='channel_lots', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='PAID: PAID\nTRIAL: TRIAL', enum_type=LotKind, max_length=8)),
                ('days', fields.BigIntField()),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('refunded_days', fields.BigIntField(default=0)),
                ('day_entry', fields.ForeignKeyField('models.DayEntry', source_field='day_entry_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('comment', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel_lots', 'app': 'models', 'indexes': [Index(fields=['channel_id', 'id'])], 'pk_attr': 'id', 'table_description': 'Days given to a channel at once, and the stretch of time they cover.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('holder', fields.CharField(max_length=128)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_leases', 'app': 'models', 'pk_attr': 'name', 'table_description': 'Who runs a periodic job right now: one runner at a time across workers.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrialClaim',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phone_number', fields.CharField(unique=True, max_length=20)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='trial_claims', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'trial_claims', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A phone number that has had its one free or funded trial.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='DayEntry',
            name='channel',
            field=fields.ForeignKeyField('models.Channel', source_field='channel_id', null=True, db_constraint=True, to_field='id', related_name='day_entries', on_delete=OnDelete.RESTRICT),
        ),
        # Tortoise 1.1's CreateModel does not emit Meta.constraints, so the CHECKs are added here.
        ops.AddConstraint(model_name='ChannelLot', constraint=CheckConstraint(check='days > 0', name='channel_lots_days_positive')),
        ops.AddConstraint(model_name='ChannelLot', constraint=CheckConstraint(check='refunded_days >= 0 AND refunded_days <= days', name='channel_lots_refund_within_days')),
    ]
