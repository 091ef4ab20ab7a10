"""Drop what another index or check already gives.

- The single-column indexes of three foreign keys: each column leads a composite index
  ((article, kind, status), (annotation, start) with the unique (annotation, client_id), and
  (annotation, created_at)), which serves the same look-ups; a bulk import wrote both.
- `span_start_not_negative`: the positive field's own CHECK (start >= 0) says the same.

The indexes are dropped by name, not by `AlterField` alone: Django's schema editor would also
drop every other single-column index on the column, here the partial unique index
`annotation_one_gold` (one gold annotation an article), and drop and re-add each foreign key.
The names are those Django gave them, the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("labelling_annotation", "article_id", "labelling_annotation_article_id_d3eb4dab"),
    ("labelling_change", "annotation_id", "labelling_change_annotation_id_32a59c2f"),
    ("labelling_span", "annotation_id", "labelling_span_annotation_id_f2135e29"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("corpus", "0001_initial"),
        ("labelling", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="span",
            name="span_start_not_negative",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="annotation",
                    name="article",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="annotations", to="corpus.article"),
                ),
                migrations.AlterField(
                    model_name="change",
                    name="annotation",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="changes", to="labelling.annotation"),
                ),
                migrations.AlterField(
                    model_name="span",
                    name="annotation",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="spans", to="labelling.annotation"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
                )
                for table, column, name in INDEXES
            ],
        ),
    ]
