""""Label next article", least sure first: a project setting (training.TrainingSettings) that
orders the queue by the current model's margin on each article (training.ArticleCertainty,
written by the worker), with the same claim and locks as the queue by id."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from annotator.labelling.assignment import assignment_next
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from annotator.training.models import ArticleCertainty, ModelVersion, TrainingSettings
from tests.concurrency import all_at_once
from tests.factories import ArticleFactory, UserFactory, make_project


def scored(project, margins):
    """Articles with these margins (None: not scored), as the worker leaves them."""
    version = ModelVersion.objects.create(project=project, status="ready")
    articles = []
    for n, margin in enumerate(margins):
        article = ArticleFactory(project=project, text=f"Article {n} about the talks.")
        if margin is not None:
            ArticleCertainty.objects.create(article=article, project=project, version=version, margin=margin)
        articles.append(article)
    return articles


@pytest.mark.django_db
class TestLeastSureFirst:
    def test_off_the_queue_is_by_id(self, project, analyst):
        articles = scored(project, [0.9, 0.1, None, 0.5])
        assert assignment_next(project=project, user=analyst) == articles[0]

    def test_on_the_least_sure_comes_first_then_the_unscored_by_id(self, project, analyst):
        TrainingSettings.objects.create(project=project, prefer_uncertain=True)
        articles = scored(project, [0.9, 0.1, None, 0.5, None])
        handed = []
        for _ in articles:
            article = assignment_next(project=project, user=analyst)
            handed.append(article)
            Annotation.objects.filter(article=article, annotator=analyst).update(status="submitted")
        assert handed == [articles[1], articles[3], articles[0], articles[2], articles[4]]
        assert assignment_next(project=project, user=analyst) is None

    def test_the_setting_is_on_the_model_page_and_in_the_admin(self, client, project, admin_user):
        client.force_login(admin_user)
        response = client.post(reverse("training_settings_update", args=[project.id]),
                               {"retrain_every": 0, "prefer_uncertain": "on"})
        assert response.status_code == 302
        assert TrainingSettings.objects.get(project=project).prefer_uncertain is True
        page = client.get(reverse("model_page", args=[project.id])).text
        assert re.search(r'<input type="checkbox" name="prefer_uncertain"[^>]* checked', page)
        root = UserFactory(username="root", is_staff=True, is_superuser=True)
        client.force_login(root)
        admin_page = client.get(reverse("admin:projects_project_change", args=[project.id])).text
        assert 'name="training-0-prefer_uncertain"' in admin_page and 'name="suggesters-0-model"' in admin_page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_analysts_at_once_never_share_a_slot_beyond_the_overlap(round_):
    """Eight analysts ask for their next article at the same moment, least sure first, overlap 2:
    the least sure articles are handed out first, none to more than two analysts."""
    project = make_project(name="Race")
    project.overlap = 2
    project.save()
    TrainingSettings.objects.create(project=project, prefer_uncertain=True)
    articles = scored(project, [0.8, 0.05, 0.6, 0.2, None, 0.4])
    users = [UserFactory(username=f"racer{n}") for n in range(8)]
    Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in users)
    got = {}

    def work(user):
        got[user.username] = assignment_next(project=project, user=user)

    assert all_at_once(work, users) == []
    held = Counter(Annotation.objects.filter(kind="analyst").values_list("article_id", flat=True))
    assert max(held.values()) == 2 and sum(held.values()) == 8
    # The four least sure articles (0.05, 0.2, 0.4, 0.6), two analysts each; none of the others.
    assert set(held) == {articles[1].id, articles[3].id, articles[5].id, articles[2].id}
    assert sorted(a.id for a in got.values()) == sorted(held.elements())
