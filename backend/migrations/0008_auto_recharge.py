from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0007_hold_settlement')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Wallet',
            name='recharge_threshold_micros',
            field=fields.BigIntField(null=True),
        ),
        ops.CreateModel(
            name='AutoRechargeRule',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('wallet', fields.OneToOneField('models.Wallet', source_field='wallet_id', db_constraint=True, to_field='id', related_name='auto_recharge', on_delete=OnDelete.RESTRICT)),
                ('enabled', fields.BooleanField()),
                ('threshold_micros', fields.BigIntField()),
                ('amount_micros', fields.BigIntField()),
                ('daily_cap_micros', fields.BigIntField()),
                ('consecutive_failures', fields.IntField(default=0)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'auto_recharge_rules', 'app': 'models', 'pk_attr': 'id', 'table_description': "A wallet that tops itself up from the customer's payment method when it runs low."},
            bases=['Model'],
        ),
        # Tortoise 1.1's CreateModel does not emit Meta.constraints, so the CHECK is added here.
        ops.AddConstraint(model_name='AutoRechargeRule', constraint=CheckConstraint(check='amount_micros > 0 AND threshold_micros >= 0 AND daily_cap_micros >= amount_micros', name='auto_recharge_rules_sane')),
    ]
