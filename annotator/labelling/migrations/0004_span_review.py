from django.db import migrations, models


def decisions_from_history(apps, schema_editor):
    """Gold spans made before decisions were stored get theirs from the history: "accepted" (from
    the submitted analysts who have a span of that label at those offsets), "edited" when a
    reviewer changed it after, "added" when a reviewer made it. Imported gold has no such history
    and keeps none."""
    Span = apps.get_model("labelling", "Span")
    Change = apps.get_model("labelling", "Change")
    db = schema_editor.connection.alias
    gold_spans = Span.objects.using(db).filter(annotation__kind="gold")
    actions = {}
    for span_id, action in (
        Change.objects.using(db).filter(annotation__kind="gold", subject="span", subject_id__isnull=False)
        .order_by("id").values_list("subject_id", "action")
    ):
        actions.setdefault(span_id, set()).add(action)
    for span in gold_spans.select_related("annotation").iterator(chunk_size=1000):
        done = actions.get(span.id, set())
        if "accept" in done:
            analysts = Span.objects.using(db).filter(
                annotation__article_id=span.annotation.article_id, annotation__kind="analyst",
                annotation__status="submitted", label_id=span.label_id, start=span.start, end=span.end,
            ).values_list("annotation__annotator__username", flat=True)
            decision = "edited" if "update" in done else "accepted"
            span.review = {"decision": decision, "from": sorted(set(analysts))}
        elif "create" in done:
            span.review = {"decision": "added", "from": []}
        else:
            continue
        span.save(update_fields=["review"])


class Migration(migrations.Migration):

    dependencies = [
        ('labelling', '0003_change_action_import'),
    ]

    operations = [
        migrations.AddField(
            model_name='span',
            name='review',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(decisions_from_history, migrations.RunPython.noop),
    ]
