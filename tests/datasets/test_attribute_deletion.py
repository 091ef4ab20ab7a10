"""Policy: the schema decides what a span exports. Deleting an attribute from a label is allowed
(even while spans hold values for it); from then on those values are left out of every export
(the JSONL download, every snapshot format), while the spans keep them and their history shows
them. Adding the attribute back brings them back; the labelling page drops them at the span's
next edit."""

import json

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from annotator.labelling import services
from annotator.labelling.models import Change, Span
from annotator.projects.models import SpanAttribute
from tests.factories import UserFactory

from .helpers import add_span, annotate, article, build, file_path, split_files

pytestmark = pytest.mark.django_db

TEXT = "Lavrov said “the West is trying”.\nThe ministry agreed."


@pytest.fixture
def quote(project, admin_user):
    gold = annotate(
        article(project, TEXT), admin_user, [("Quote", "the West is trying")], topics=["Armenia"], gold=True,
        submit=False,
    )
    span = add_span(gold, admin_user, "Quote", "Lavrov", {"speaker": "Sergei Lavrov", "stance": "critical"})
    services.annotation_submit(annotation=gold, actor=admin_user)
    return span


def speaker(project):
    return SpanAttribute.objects.get(label__project=project, label__name="Quote", name="speaker")


def exported_attributes(client, project):
    response = client.get(reverse("export_jsonl", args=[project.id]))
    records = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    return {s["text"]: s["attributes"] for r in records for a in r["annotations"] for s in a["spans"]}


def test_the_admin_deletes_an_attribute_in_use(client, project, quote):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    attribute = speaker(project)

    response = client.post(reverse("admin:projects_spanattribute_delete", args=[attribute.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not SpanAttribute.objects.filter(pk=attribute.pk).exists()
    quote.refresh_from_db()
    assert quote.attributes == {"speaker": "Sergei Lavrov", "stance": "critical"}  # kept on the span


def test_the_jsonl_download_leaves_out_a_deleted_attributes_values(client, project, admin_user, quote):
    client.force_login(admin_user)
    assert exported_attributes(client, project)["Lavrov"] == {"speaker": "Sergei Lavrov", "stance": "critical"}

    speaker(project).delete()

    assert exported_attributes(client, project) == {"Lavrov": {"stance": "critical"}, "the West is trying": {}}
    assert Change.objects.filter(after__attributes__speaker="Sergei Lavrov").exists()  # the history keeps it


def test_adding_the_attribute_back_brings_its_values_back(client, project, admin_user, quote):
    client.force_login(admin_user)
    attribute = speaker(project)
    label, kind, order = attribute.label, attribute.kind, attribute.order
    attribute.delete()
    SpanAttribute.objects.create(label=label, name="speaker", kind=kind, order=order)

    assert exported_attributes(client, project)["Lavrov"] == {"speaker": "Sergei Lavrov", "stance": "critical"}


def test_every_snapshot_format_leaves_them_out(project, admin_user, quote):
    speaker(project).delete()

    snapshot = build(project, admin_user, formats=["jsonl", "parquet", "label-studio"], train=100, validation=0, test=0)

    assert snapshot.status == "ready", snapshot.error
    records = [json.loads(line) for line in file_path(snapshot, "train.jsonl").read_text().splitlines()]
    [exported] = [s for r in records for a in r["annotations"] for s in a["spans"] if s["text"] == "Lavrov"]
    assert exported["attributes"] == {"stance": "critical"}
    table = pq.read_table(split_files(snapshot, "parquet")["train"]).to_pylist()
    parquet_attributes = [json.loads(s["attributes"]) for row in table for s in row["spans"]]
    assert sorted(parquet_attributes, key=len) == [{}, {"stance": "critical"}]
    everything = "".join(path.read_text() for path in file_path(snapshot, "README.md").parent.rglob("*")
                         if path.suffix in {".json", ".jsonl", ".md", ".csv"})
    assert "Sergei Lavrov" not in everything
    assert Span.objects.get(pk=quote.pk).attributes["speaker"] == "Sergei Lavrov"
