"""Sorting and filtering accept only listed fields: filters are forms with listed choices, and
nothing sorts or filters by a field named in the request."""

import re

import pytest
from django.urls import reverse

from annotator.datasets.forms import SnapshotForm
from annotator.datasets.models import Snapshot
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

FIELD_PROBES = {"order_by": "annotator__password", "ordering": "-password", "sort": "user__password",
                "annotator__password__startswith": "pbkdf2", "o": "password"}


def test_a_snapshot_filter_outside_the_listed_choices_is_refused(project, admin_user):
    ArticleFactory(project=project, source="TASS")
    data = {"scope": "analysts", "formats": ["jsonl"], "train": 80, "validation": 10, "test": 10, "seed": 1,
            "near_duplicate_threshold": "0.8"}
    for field, value in [("topics", "annotator__password"), ("sources", "not a listed source"),
                         ("formats", "pickle"), ("scope", "everything")]:
        form = SnapshotForm({**data, field: [value] if field in {"topics", "sources", "formats"} else value},
                            project=project)
        assert not form.is_valid() and field in form.errors, field
    assert SnapshotForm(data, project=project).is_valid()


def test_posting_an_unlisted_filter_makes_no_snapshot(client, project, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("dataset_list", args=[project.id]), {
        "scope": "analysts", "formats": ["jsonl"], "train": 80, "validation": 10, "test": 10, "seed": 1,
        "near_duplicate_threshold": "0.8", "topics": ["annotator__password"],
    })
    assert response.status_code == 400  # the form is shown again with its error
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize("name", ["project_detail", "review_queue", "project_agreement", "project_progress",
                                  "dataset_list", "project_members"])
def test_unknown_sort_and_filter_parameters_change_nothing(client, project, admin_user, name):
    ArticleFactory.create_batch(3, project=project)
    client.force_login(admin_user)
    url = reverse(name, args=[project.id])
    plain = client.get(url)
    probed = client.get(url, FIELD_PROBES)
    assert plain.status_code == probed.status_code == 200
    assert b"pbkdf2" not in probed.content
    # The same page, apart from per-response tokens (CSRF and CSP nonces).
    assert strip_tokens(plain.content) == strip_tokens(probed.content)


def strip_tokens(html: bytes) -> bytes:
    return re.sub(rb'(value|nonce)="[^"]*"', b"", html)
