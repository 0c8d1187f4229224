from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import DeliveryStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_auto_recharge')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AlertWebhook',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='alert_webhooks', on_delete=OnDelete.RESTRICT)),
                ('url', fields.CharField(max_length=2000)),
                ('secret', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_webhooks', 'app': 'models', 'pk_attr': 'id', 'table_description': "A partner's URL that receives every alert as a signed JSON POST."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('webhook', fields.ForeignKeyField('models.AlertWebhook', source_field='webhook_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_deliveries', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['webhook_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One alert sent (or being sent) to one webhook: the attempts are visible to the partner.'},
            bases=['Model'],
        ),
    ]
