from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.domain.models import InvoiceStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import CheckConstraint

# Tortoise 1.1's CreateModel does not emit Meta.constraints on PostgreSQL, nor
# unique_together: the rules invoices live by are created explicitly below.
UNIQUE_INDEXES = {
    # One invoice per customer and month, whoever generates it and however often.
    "invoices_customer_period": "ON invoices (customer_id, period)",
    # Gapless numbering per partner can never hand out one number twice.
    "invoices_partner_sequence": "ON invoices (partner_id, sequence)",
    "plan_assignments_customer_from": "ON plan_assignments (customer_id, effective_from)",
}


async def add_keys(apps, schema_editor) -> None:
    client = schema_editor.client
    for name, definition in UNIQUE_INDEXES.items():
        await client.execute_script(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} {definition};")
    # Customers created before plan history existed keep their plan from creation.
    await client.execute_script(
        "INSERT INTO plan_assignments (customer_id, plan_id, effective_from, created_at)"
        " SELECT id, plan_id, created_at, created_at FROM customers"
        " WHERE id NOT IN (SELECT customer_id FROM plan_assignments);"
    )


async def drop_keys(apps, schema_editor) -> None:
    for name in UNIQUE_INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name};")

class Migration(migrations.Migration):
    dependencies = [('models', '0009_alert_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Invoice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('models.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('period', fields.CharField(max_length=7)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(description='DRAFT: DRAFT\nOPEN: OPEN\nPAID: PAID\nVOID: VOID', enum_type=InvoiceStatus, max_length=8)),
                ('sequence', fields.IntField(null=True)),
                ('number', fields.CharField(null=True, max_length=40)),
                ('plan', fields.ForeignKeyField('models.Plan', source_field='plan_id', null=True, db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('currency_code', fields.CharField(max_length=3)),
                ('tax_rate_percent_micros', fields.BigIntField(default=0)),
                ('subtotal_micros', fields.BigIntField()),
                ('tax_micros', fields.BigIntField()),
                ('total_micros', fields.BigIntField()),
                ('issued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('voided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('overdue_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('status_comment', fields.CharField(null=True, max_length=500)),
                ('payment_entry', fields.ForeignKeyField('models.LedgerEntry', source_field='payment_entry_id', null=True, db_constraint=True, to_field='id', related_name='invoices', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invoices', 'app': 'models', 'constraints': [CheckConstraint(check='subtotal_micros >= 0 AND tax_micros >= 0 AND total_micros = subtotal_micros + tax_micros', name='invoices_totals'), CheckConstraint(check="(status = 'DRAFT' AND sequence IS NULL AND issued_at IS NULL) OR (status IN ('OPEN', 'PAID') AND sequence IS NOT NULL AND issued_at IS NOT NULL AND due_at IS NOT NULL) OR status = 'VOID'", name='invoices_numbered_when_issued'), CheckConstraint(check="(status = 'PAID') = (paid_at IS NOT NULL)", name='invoices_paid_at')], 'indexes': [Index(fields=['partner_id', 'period']), Index(fields=['customer_id', 'id']), Index(fields=['status', 'due_at'])], 'pk_attr': 'id', 'table_description': "A customer's bill for one month: the plan fee and tax due, usage as a statement."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvoiceCounter',
            fields=[
                ('partner', fields.OneToOneField('models.Partner', source_field='partner_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='invoice_counter', on_delete=OnDelete.RESTRICT)),
                ('last_sequence', fields.IntField()),
            ],
            options={'table': 'invoice_counters', 'app': 'models', 'pk_attr': 'partner_id', 'table_description': 'The last invoice sequence a partner issued, bumped in the finalising transaction.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvoiceLine',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField()),
                ('description', fields.CharField(max_length=300)),
                ('quantity', fields.BigIntField()),
                ('unit_price_micros', fields.BigIntField()),
                ('amount_micros', fields.BigIntField()),
                ('prepaid', fields.BooleanField()),
            ],
            options={'table': 'invoice_lines', 'app': 'models', 'constraints': [CheckConstraint(check='quantity > 0 AND unit_price_micros >= 0 AND amount_micros = quantity * unit_price_micros', name='invoice_lines_amount')], 'indexes': [Index(fields=['invoice_id', 'position'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InvoiceRun',
            fields=[
                ('period', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=7)),
                ('completed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invoice_runs', 'app': 'models', 'pk_attr': 'period', 'table_description': 'A period the jobs loop has generated invoices for, so it does so once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanAssignment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='plan_assignments', on_delete=OnDelete.RESTRICT)),
                ('plan', fields.ForeignKeyField('models.Plan', source_field='plan_id', null=True, db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.RESTRICT)),
                ('effective_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plan_assignments', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The plan a customer is on from ``effective_from`` on (NULL plan: none).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Conversation',
            index=Index(fields=['partner_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['kind', 'created_at']),
        ),
        ops.AddConstraint(model_name='Invoice', constraint=CheckConstraint(check='subtotal_micros >= 0 AND tax_micros >= 0 AND total_micros = subtotal_micros + tax_micros', name='invoices_totals')),
        ops.AddConstraint(model_name='Invoice', constraint=CheckConstraint(check="(status = 'DRAFT' AND sequence IS NULL AND issued_at IS NULL) OR (status IN ('OPEN', 'PAID') AND sequence IS NOT NULL AND issued_at IS NOT NULL AND due_at IS NOT NULL) OR status = 'VOID'", name='invoices_numbered_when_issued')),
        ops.AddConstraint(model_name='Invoice', constraint=CheckConstraint(check="(status = 'PAID') = (paid_at IS NOT NULL)", name='invoices_paid_at')),
        ops.AddConstraint(model_name='InvoiceLine', constraint=CheckConstraint(check='quantity > 0 AND unit_price_micros >= 0 AND amount_micros = quantity * unit_price_micros', name='invoice_lines_amount')),
        ops.RunPython(add_keys, drop_keys),
    ]
