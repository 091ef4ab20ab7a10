"""The permission matrix: every project URL × every role, and every object of another project.

Deny by default: a non-member gets 404 (the project might as well not exist), a member whose
role is not enough gets 403, an anonymous visitor is sent to log in, and an object from another
project is 404 for everyone, whatever its id. A refused request changes nothing.
"""

from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse

from annotator.corpus.models import ImportJob
from annotator.datasets.models import Snapshot, SnapshotFile, snapshot_root
from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.projects.models import Membership
from annotator.review import services as review
from annotator.suggestions.models import SuggesterSettings, SuggestionDecision
from annotator.suggestions.services import suggestions_compute
from annotator.training.models import ModelVersion, TrainingSettings
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

# Who may use each URL. Everything else under /p/<id>/ must be listed here: a new URL that is
# not makes test_every_project_url_is_in_the_matrix fail.
EVERY_MEMBER = {
    "project_detail", "next_article", "label_article", "span_create", "relation_create", "document_labels", "article_submit",
    "article_skip", "export_jsonl",
    # A long article's text windows and span list pages: the member's own spans only.
    "text_window", "span_list_more",
    # Deciding the article's suggestions, into the member's own annotation.
    "suggestion_accept", "suggestion_reject", "suggestions_accept_all",
}
# Labelling is blind: only the analyst who made a span sees or changes it (reviewers work on gold).
OWN_WORK = {"span_edit", "span_update", "span_delete", "relation_delete"}
STAFF = {
    "article_import", "project_progress", "project_members", "member_add", "member_remove", "review_queue",
    "review_article", "review_span_add", "review_accept", "review_reject", "review_span_update",
    "review_span_delete", "review_labels", "review_done", "review_relation_accept", "review_relation_reject",
    "review_relation_add", "review_relation_delete", "article_history", "dataset_list", "snapshot_detail",
    "snapshot_file", "snapshot_delete", "project_agreement", "project_agreement_csv", "labelled_import",
    "import_job_detail", "review_text_window", "review_groups_more", "review_gold_more",
    # The project's trained models.
    "model_page", "model_train_start", "model_version_detail", "training_settings_update",
    # A reviewer may open this, but is offered no role above analyst (tests/assignment/test_members.py).
    "member_change_role",
}
ADMIN_ONLY = {"project_settings"}
ROLES = ["anonymous", "outsider", "analyst", "reviewer", "admin"]


def project_urls():
    def walk(patterns):
        for pattern in patterns:
            if getattr(pattern, "namespace", None) == "api-v1":
                continue  # the API's own matrix: tests/api/test_permissions.py
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            elif "project_id" in str(pattern.pattern):
                yield pattern.name

    return sorted(set(walk(get_resolver().url_patterns)))


@dataclass
class World:
    """One project's objects: the ones every URL needs."""

    project: object
    article: object
    span: object
    relation: object
    gold_span: object
    gold_relation: object
    membership: object
    snapshot: object
    import_job: object
    suggestion: object
    model_version: object

    def kwargs(self, name):
        values = {
            "project_id": self.project.id,
            "article_id": self.article.id,
            "span_id": self.gold_span.id if name in {"review_span_update", "review_span_delete"} else self.span.id,
            "relation_id": self.gold_relation.id if name == "review_relation_delete" else self.relation.id,
            "membership_id": self.membership.id,
            "snapshot_id": self.snapshot.id,
            "job_id": self.import_job.id,
            "suggestion_id": self.suggestion.id,
            "version_id": self.model_version.id,
            "name": "README.md",
        }
        pattern = next(p for p in walk_patterns() if p.name == name)
        return {key: value for key, value in values.items() if f"<{key}>" in str(pattern.pattern) or
                f":{key}>" in str(pattern.pattern)}


def walk_patterns(patterns=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if getattr(pattern, "namespace", None) == "api-v1":
            continue
        if hasattr(pattern, "url_patterns"):
            yield from walk_patterns(pattern.url_patterns)
        else:
            yield pattern


def make_world(name, analyst, reviewer, admin, settings) -> World:
    project = make_project(name=name, analyst=analyst, reviewer=reviewer, admin=admin)
    article = ArticleFactory(project=project, text=f"{name}: Lavrov said “NATO is expanding” on Monday.")
    labels = {label.name: label for label in project.span_labels.all()}
    start = article.text.index("NATO")
    quote = labelling.span_create(article=article, annotator=analyst, label=labels["Quote"], start=start,
                                  end=start + 17, text="NATO is expanding", client_id=f"00000000-0000-0000-0000-{article.id:012d}")
    lavrov = article.text.index("Lavrov")
    source = labelling.span_create(article=article, annotator=analyst, label=labels["Source"], start=lavrov,
                                   end=lavrov + 6, text="Lavrov", client_id=f"00000000-0000-0000-0001-{article.id:012d}")
    relation = labelling.relation_create(relation_type=project.relation_types.get(name="speaker"), source=quote,
                                         target=source)
    labelling.analyst_labels_set(article=article, annotator=analyst, topic_ids=[project.topics.first().id],
                                 stances={project.stance_targets.first().id: project.stance_values.first().id})
    labelling.annotation_submit(annotation=quote.annotation)
    gold_span = review.gold_span_accept(article=article, reviewer=reviewer, span=quote, expected_version=0)
    review.gold_span_accept(article=article, reviewer=reviewer, span=source, expected_version=2)
    gold_relation = review.gold_relation_accept(article=article, reviewer=reviewer, relation=relation, expected_version=3)
    snapshot = Snapshot.objects.create(project=project, created_by=admin, parameters={}, status=Snapshot.Status.READY)
    path = f"{snapshot.directory}/README.md"
    (snapshot_root() / snapshot.directory).mkdir(parents=True)
    (snapshot_root() / path).write_text("# card\n")
    SnapshotFile.objects.create(snapshot=snapshot, name="README.md", format="card", size=7, sha256="0" * 64, path=path)
    membership = Membership.objects.get(project=project, user=analyst)
    import_job = ImportJob.objects.create(project=project, created_by=admin)
    suggestions_compute(article=article)
    suggestion = article.suggestions.get(text="Lavrov")
    model_version = ModelVersion.objects.create(project=project, created_by=reviewer, status=ModelVersion.Status.READY)
    return World(project, article, quote, relation, gold_span, gold_relation, membership, snapshot, import_job, suggestion,
                 model_version)


@pytest.fixture
def people(db):
    return {role: UserFactory(username=role) for role in ROLES if role != "anonymous"}


@pytest.fixture
def worlds(people, settings, tmp_path):
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path
    mine = make_world("Mine", people["analyst"], people["reviewer"], people["admin"], settings)
    # The outsider is a member of another project, with every role's objects in it.
    other_analyst, other_reviewer = UserFactory(username="other-analyst"), UserFactory(username="other-reviewer")
    theirs = make_world("Theirs", other_analyst, other_reviewer, people["outsider"], settings)
    return mine, theirs


def fingerprint():
    """Everything a request could change, as plain values."""
    return (
        sorted(Annotation.objects.values_list("id", "status", "version", "kind", "annotator_id")),
        sorted(Span.objects.values_list("id", "label_id", "start", "end", "attributes")),
        sorted(Relation.objects.values_list("id", "source_id", "target_id")),
        sorted(Stance.objects.values_list("id", "target_id", "value_id")),
        sorted(Annotation.topics.through.objects.values_list("annotation_id", "topic_id")),
        sorted(Membership.objects.values_list("id", "user_id", "role")),
        Change.objects.count(),
        sorted(Snapshot.objects.values_list("id", "status")),
        sorted(ImportJob.objects.values_list("id", "status")),
        sorted(Annotation.objects.values_list("article__project__overlap", flat=True)),
        sorted(SuggestionDecision.objects.values_list("id", "decision")),
        sorted(ModelVersion.objects.values_list("id", "status")),
        sorted(TrainingSettings.objects.values_list("project_id", "retrain_every")),
        sorted(SuggesterSettings.objects.values_list("project_id", "quotes", "speakers", "topics", "model")),
    )


def call(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {"reason": "because", "role": "analyst", "username": "analyst"})
    if response.streaming:  # a download holds its file open until read and closed
        b"".join(response.streaming_content)
        for close in response._resource_closers:
            close()
    return response


def allowed(name, role):
    if name in EVERY_MEMBER or name in OWN_WORK:
        return role in {"analyst", "reviewer", "admin"}
    if name in STAFF:
        return role in {"reviewer", "admin"}
    return role == "admin"


def test_every_project_url_is_in_the_matrix():
    assert set(project_urls()) == EVERY_MEMBER | OWN_WORK | STAFF | ADMIN_ONLY


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", project_urls())
def test_role_matrix(client, people, worlds, name, role):
    mine, _ = worlds
    if role != "anonymous":
        client.force_login(people[role])
    before = fingerprint()
    response = call(client, name, mine.kwargs(name))
    if name in OWN_WORK and role in {"reviewer", "admin"}:
        assert response.status_code == 404, (name, role, response.status_code)  # not their span
    elif allowed(name, role):
        assert response.status_code not in (401, 403, 404), (name, role, response.status_code)
        return
    elif role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response.status_code
    elif role == "outsider":
        assert response.status_code == 404, (name, response.status_code)
    else:
        assert response.status_code == 403, (name, role, response.status_code)
    assert fingerprint() == before


@pytest.mark.parametrize("role", ["analyst", "reviewer", "admin"])
@pytest.mark.parametrize("name", [n for n in project_urls() if n not in {
    "project_detail", "next_article", "article_import", "labelled_import", "project_progress", "project_members", "member_add",
    "project_settings", "review_queue", "export_jsonl", "dataset_list", "project_agreement", "project_agreement_csv",
    "model_page", "model_train_start", "training_settings_update",
}])
def test_objects_of_another_project_are_never_reached(client, people, worlds, name, role):
    """The URL names my project; every other id in it belongs to the other project.

    Whoever may use the URL gets 404; whoever may not is refused (403) before any id is looked at.
    """
    mine, theirs = worlds
    client.force_login(people[role])
    kwargs = theirs.kwargs(name) | {"project_id": mine.project.id}
    before = fingerprint()
    response = call(client, name, kwargs)
    assert response.status_code == (404 if allowed(name, role) else 403), (name, role, response.status_code)
    assert fingerprint() == before


def test_htmx_requests_of_anonymous_visitors_get_401(client, worlds):
    mine, _ = worlds
    response = client.post(reverse("span_create", kwargs=mine.kwargs("span_create")), headers={"HX-Request": "true"})
    assert response.status_code == 401
