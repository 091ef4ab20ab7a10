"""`labelling_claim_count`: the count that decides an overlap-k claim, made in one round trip.

Under the article's row lock, a claimer must count in a *new* statement (a new snapshot under READ
COMMITTED) to see the claims committed by those who held the lock before it; from Python that was
two round trips with the lock held between them. A VOLATILE PL/pgSQL function takes a new snapshot
for each statement it runs, so the lock and the count are one call (`services._claim_check`).
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION labelling_claim_count(p_article bigint, p_kind text, p_holding text[],
                                      OUT held bigint, OUT slots integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Waits for whoever holds the article's row (a claimer, until it commits).
    SELECT p.overlap INTO slots
      FROM corpus_article a JOIN projects_project p ON p.id = a.project_id
     WHERE a.id = p_article
       FOR NO KEY UPDATE OF a;
    -- A new statement, so a new snapshot: every claim committed by the lock's earlier holders is seen.
    SELECT count(*) INTO held
      FROM labelling_annotation
     WHERE article_id = p_article AND kind = p_kind AND status = ANY (p_holding);
END
$$;
"""
DROP = "DROP FUNCTION labelling_claim_count(bigint, text, text[]);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("labelling", "0007_span_suggested_by"),
        ("corpus", "0001_initial"),
        ("projects", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
