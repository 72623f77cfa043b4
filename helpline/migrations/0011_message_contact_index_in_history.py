"""A message's contact has no index of its own: message_history (contact, created_at) serves every lookup.

Only the index is dropped (Django's own AlterField would also drop and re-validate the foreign key,
a scan of every message under a lock); the index's name is the one Django gave it on every backend.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "helpline_message_contact_id_78842f14"


class Migration(migrations.Migration):
    dependencies = [
        ("helpline", "0010_consoles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="messages",
                        to="helpline.contact",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON helpline_message (contact_id)",
                ),
            ],
        ),
    ]
