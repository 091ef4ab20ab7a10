"""The Django admin keeps what the labelling page keeps: a relation links two spans of its own
annotation with a type of that project, and a stance uses that project's targets and values."""

import uuid

import pytest
from django.urls import reverse

from annotator.labelling import services
from annotator.labelling.models import Relation, Stance
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def two_projects(project, analyst):
    other = make_project(name="Other project")
    here = ArticleFactory(project=project, text="Lavrov said yes.")
    there = ArticleFactory(project=other, text="Lavrov said no.")
    quote = services.span_create(article=here, annotator=analyst, label=project.span_labels.get(name="Quote"),
                                 start=0, end=6, text="Lavrov", client_id=uuid.uuid4())
    source_here = services.span_create(article=here, annotator=analyst, label=project.span_labels.get(name="Source"),
                                       start=7, end=11, text="said", client_id=uuid.uuid4())
    source_there = services.span_create(article=there, annotator=analyst, label=other.span_labels.get(name="Source"),
                                        start=0, end=6, text="Lavrov", client_id=uuid.uuid4())
    return project, other, quote, source_here, source_there


def test_a_relation_to_a_span_of_another_annotation_is_refused(staff, two_projects):
    project, other, quote, _, source_there = two_projects

    response = staff.post(reverse("admin:labelling_relation_add"), {
        "annotation": quote.annotation_id, "type": project.relation_types.get(name="speaker").pk,
        "source": quote.pk, "target": source_there.pk,
    })

    assert response.status_code == 200, "the form is shown again with the error"
    assert Relation.objects.count() == 0


def test_a_relation_type_of_another_project_is_refused(staff, two_projects):
    project, other, quote, source_here, _ = two_projects

    response = staff.post(reverse("admin:labelling_relation_add"), {
        "annotation": quote.annotation_id, "type": other.relation_types.get(name="speaker").pk,
        "source": quote.pk, "target": source_here.pk,
    })

    assert response.status_code == 200
    assert Relation.objects.count() == 0


def test_a_stance_with_another_projects_target_and_value_is_refused(staff, two_projects):
    project, other, quote, _, _ = two_projects

    response = staff.post(reverse("admin:labelling_stance_add"), {
        "annotation": quote.annotation_id, "target": other.stance_targets.first().pk,
        "value": other.stance_values.first().pk,
    })

    assert response.status_code == 200
    assert Stance.objects.count() == 0


def test_a_relation_inside_one_annotation_is_accepted(staff, two_projects):
    project, _, quote, source_here, _ = two_projects

    response = staff.post(reverse("admin:labelling_relation_add"), {
        "annotation": quote.annotation_id, "type": project.relation_types.get(name="speaker").pk,
        "source": quote.pk, "target": source_here.pk,
    })

    assert response.status_code == 302
    assert Relation.objects.get().target == source_here
