"""A quote's speaker is said once: by its `speaker` link when the speaker is named in the text.

Before, analysts could both link a quote to its speaker and type the speaker's name in the
quote's free-text `speaker` attribute, and the two could differ. Every span with a link whose
type is named like one of its attributes (a `speaker` link and a `speaker` attribute) loses the
attribute here; each removal is recorded in the annotation's history as an edit by its
annotator, with the old value in `before` and the reason saying what happened. Going back puts
the values back from those records.
"""

from django.db import migrations
from django.db.models import F

REASON = "Migration labelling 0005: the {name} is given by the link to “{target}”; the free-text {name} “{value}” was removed."
MARK = "Migration labelling 0005:"


def _state(span, label, attributes):
    return {"label": label, "start": span.start, "end": span.end, "text": span.text, "attributes": attributes}


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Relation = apps.get_model("labelling", "Relation")
    Span = apps.get_model("labelling", "Span")
    Change = apps.get_model("labelling", "Change")
    Annotation = apps.get_model("labelling", "Annotation")
    links = Relation.objects.using(db).values_list(
        "source_id", "type__name", "target__text", "source__attributes"
    ).order_by("id")
    cleared = {}  # span id -> [(name, linked text)]
    for source_id, name, target, attributes in links.iterator(chunk_size=2000):
        if attributes and name in attributes:
            cleared.setdefault(source_id, []).append((name, target))
    for span in Span.objects.using(db).filter(pk__in=list(cleared)).select_related("label", "annotation"):
        before = dict(span.attributes)
        after = {key: value for key, value in before.items() if key not in {name for name, _ in cleared[span.id]}}
        span.attributes = after
        span.save(update_fields=["attributes"])
        reason = " ".join(
            REASON.format(name=name, target=target[:80], value=str(before[name])[:80])
            for name, target in dict(cleared[span.id]).items()
        )
        Change.objects.using(db).create(
            annotation_id=span.annotation_id, actor_id=span.annotation.annotator_id, action="update", subject="span",
            subject_id=span.id, before=_state(span, span.label.name, before), after=_state(span, span.label.name, after),
            reason=reason,
        )
        Annotation.objects.using(db).filter(pk=span.annotation_id).update(version=F("version") + 1)


def backwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Span = apps.get_model("labelling", "Span")
    Change = apps.get_model("labelling", "Change")
    Annotation = apps.get_model("labelling", "Annotation")
    for change in Change.objects.using(db).filter(reason__startswith=MARK, action="update", subject="span"):
        Span.objects.using(db).filter(pk=change.subject_id).update(attributes=change.before["attributes"])
        Annotation.objects.using(db).filter(pk=change.annotation_id).update(version=F("version") + 1)
        change.delete()


class Migration(migrations.Migration):

    dependencies = [
        ("labelling", "0004_span_review"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
