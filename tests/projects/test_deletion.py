import pytest
from django.db.models import RestrictedError

from annotator.labelling import services
from annotator.labelling.models import Span
from annotator.projects.models import Project
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(project, analyst):
    article = ArticleFactory(project=project, text="Lavrov said “NATO is expanding”.")
    quote = project.span_labels.get(name="Quote")
    span = services.span_create(article=article, annotator=analyst, label=quote, start=13, end=30,
                                text="NATO is expanding", client_id="00000000-0000-0000-0000-000000000001")
    services.analyst_labels_set(article=article, annotator=analyst, topic_ids=[project.topics.first().id],
                                stances={project.stance_targets.first().id: project.stance_values.first().id})
    return span


def test_a_label_in_use_cannot_be_deleted(labelled):
    with pytest.raises(RestrictedError):
        labelled.label.delete()
    assert Span.objects.filter(pk=labelled.pk).exists()


def test_stance_values_and_relation_types_in_use_cannot_be_deleted(project, labelled):
    with pytest.raises(RestrictedError):
        project.stance_values.first().delete()


def test_a_whole_project_with_its_annotations_can_be_deleted(project, labelled):
    project.delete()
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Span.objects.exists()
