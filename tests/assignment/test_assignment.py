"""`assignment_next`: own work first, then the first article with a free slot; never more than k."""


import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count

from annotator.labelling import services
from annotator.labelling.assignment import assignment_next, assignment_skip
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from tests.concurrency import all_at_once
from tests.factories import ArticleFactory, UserFactory, make_project

HOLDING = ("in_progress", "submitted")


def holders(article) -> list[str]:
    """Usernames of the analysts holding a slot on the article."""
    return sorted(
        article.annotations.filter(kind="analyst", status__in=HOLDING).values_list("annotator__username", flat=True)
    )


def set_overlap(project, k):
    project.overlap = k
    project.save(update_fields=["overlap"])


@pytest.mark.django_db
class TestAssignmentNext:
    def test_overlap_one_gives_each_article_to_one_analyst(self, project, analyst, analysts):
        a, b = ArticleFactory.create_batch(2, project=project)

        assert assignment_next(project=project, user=analyst) == a
        assert assignment_next(project=project, user=analysts[0]) == b
        assert assignment_next(project=project, user=analysts[1]) is None

        claimed = Annotation.objects.get(article=a)
        assert (claimed.annotator, claimed.kind, claimed.status) == (analyst, "analyst", "in_progress")
        assert holders(a) == ["analyst"] and holders(b) == ["analyst-1"]
        assert Annotation.objects.count() == 2

    def test_overlap_two_gives_each_article_to_two_analysts(self, project, analyst, analysts):
        set_overlap(project, 2)
        a, b = ArticleFactory.create_batch(2, project=project)
        users = [analyst, *analysts]

        got = [assignment_next(project=project, user=u) for u in users]

        assert got == [a, a, b, b, None]
        assert holders(a) == ["analyst", "analyst-1"]
        assert holders(b) == ["analyst-2", "analyst-3"]
        assert not Annotation.objects.filter(annotator=analysts[3]).exists()

    def test_own_article_in_progress_comes_first_and_is_not_claimed_twice(self, project, analyst, analysts):
        set_overlap(project, 2)
        a, b, c = ArticleFactory.create_batch(3, project=project)
        # Opened by URL and labelled: the analyst's own work in progress, though it is not the first article.
        services.annotation_get_or_create(article=b, annotator=analyst)

        assert assignment_next(project=project, user=analyst) == b
        assert assignment_next(project=project, user=analyst) == b
        assert Annotation.objects.filter(annotator=analyst).count() == 1

        services.annotation_submit(annotation=Annotation.objects.get(article=b, annotator=analyst))
        assert assignment_next(project=project, user=analyst) == a  # the first free one, now
        assert assignment_next(project=project, user=analyst) == a
        assert Annotation.objects.filter(annotator=analyst).count() == 2

    def test_submitted_and_skipped_articles_are_not_given_again(self, project, analyst):
        set_overlap(project, 3)
        a, b, c = ArticleFactory.create_batch(3, project=project)
        assert assignment_next(project=project, user=analyst) == a
        services.annotation_submit(annotation=Annotation.objects.get(article=a))
        assert assignment_next(project=project, user=analyst) == b
        assignment_skip(article=b, user=analyst, reason="Not about foreign policy")
        assert assignment_next(project=project, user=analyst) == c
        services.annotation_submit(annotation=Annotation.objects.get(article=c))
        assert assignment_next(project=project, user=analyst) is None
        assert list(Annotation.objects.order_by("article_id").values_list("status", flat=True)) == [
            "submitted", "skipped", "submitted",
        ]

    def test_a_skip_frees_the_slot_for_another_analyst(self, project, analyst, analysts):
        a, b = ArticleFactory.create_batch(2, project=project)
        assert assignment_next(project=project, user=analyst) == a
        assert assignment_next(project=project, user=analysts[0]) == b
        assert assignment_next(project=project, user=analysts[1]) is None  # both slots taken

        assignment_skip(article=a, user=analyst, reason="Duplicate of another article")

        assert assignment_next(project=project, user=analysts[1]) == a
        assert holders(a) == ["analyst-2"]
        assert assignment_next(project=project, user=analyst) is None  # it skipped a; b is taken

    def test_submitted_work_keeps_its_slot(self, project, analyst, analysts):
        (a,) = ArticleFactory.create_batch(1, project=project)
        assert assignment_next(project=project, user=analyst) == a
        services.annotation_submit(annotation=Annotation.objects.get(article=a))
        assert assignment_next(project=project, user=analysts[0]) is None

    def test_gold_annotations_and_other_projects_take_no_slot(self, project, analyst, admin_user):
        a = ArticleFactory(project=project)
        Annotation.objects.create(article=a, annotator=admin_user, kind="gold", status="submitted")
        elsewhere = ArticleFactory(project=make_project(name="Other", analyst=analyst))

        assert assignment_next(project=project, user=analyst) == a
        assert not Annotation.objects.filter(article=elsewhere).exists()

    def test_lowering_k_stops_new_claims_but_takes_no_one_off(self, project, analyst, analysts):
        set_overlap(project, 2)
        a = ArticleFactory(project=project)
        assert assignment_next(project=project, user=analyst) == a
        assert assignment_next(project=project, user=analysts[0]) == a
        set_overlap(project, 1)
        assert assignment_next(project=project, user=analysts[1]) is None
        assert holders(a) == ["analyst", "analyst-1"]
        # The overlap is read under the lock, not from a stale project object.
        project.overlap = 5
        assert assignment_next(project=project, user=analysts[2]) is None

    def test_empty_project_gives_none(self, project, analyst):
        assert assignment_next(project=project, user=analyst) is None
        assert Annotation.objects.count() == 0

    def test_a_refused_skip_leaves_nothing_behind(self, project, analyst):
        a = ArticleFactory(project=project)
        with pytest.raises(ValidationError, match="Say why"):
            assignment_skip(article=a, user=analyst, reason="   ")
        assert Annotation.objects.count() == 0


def _claim_all_at_once(project, users, *, keep_going=False):
    """Every user asks for an article at the same moment, each from its own thread and connection.

    With `keep_going`, each then submits and asks again until nothing is left, so later claims
    race with submissions as well as with each other.
    """
    got: dict[int, list] = {user.pk: [] for user in users}

    def work(user):
        while True:
            article = assignment_next(project=project, user=user)
            got[user.pk].append(article)
            if article is None or not keep_going:
                return
            services.annotation_submit(
                annotation=Annotation.objects.get(article=article, annotator=user, kind="analyst")
            )

    assert all_at_once(work, users) == []
    return got


def slots_per_article(project) -> dict[int, int]:
    rows = (
        Annotation.objects.filter(article__project=project, kind="analyst", status__in=HOLDING)
        .values("article")
        .annotate(n=Count("pk"))
    )
    counts = {article.id: 0 for article in project.articles.all()}
    counts.update({row["article"]: row["n"] for row in rows})
    return counts


@pytest.mark.django_db(transaction=True)
class TestConcurrentClaims:
    """On PostgreSQL the claims really run at once and queue on the project's row lock; SQLite
    runs them one writer at a time (the lock helper makes each claim start with a write), so there
    the test shows that claims wait for each other instead of failing with "database is locked"."""

    @pytest.fixture
    def race(self):
        project = make_project(name="Race")
        set_overlap(project, 2)
        users = [UserFactory(username=f"racer{n}") for n in range(8)]
        Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in users)
        ArticleFactory.create_batch(3, project=project)
        return project, users

    @pytest.mark.parametrize("round_", range(8))
    def test_six_analysts_three_articles_k2_all_at_once(self, race, round_):
        project, users = race
        got = _claim_all_at_once(project, users[:6])

        assert sorted(slots_per_article(project).values()) == [2, 2, 2]
        # Everybody got exactly one article, and it is the one their annotation is on.
        for user in users[:6]:
            [article] = got[user.pk]
            assert article is not None
            assert list(Annotation.objects.filter(annotator=user).values_list("article_id", flat=True)) == [article.id]

    @pytest.mark.parametrize("round_", range(4))
    def test_more_analysts_than_slots(self, race, round_):
        project, users = race
        got = _claim_all_at_once(project, users)

        assert sorted(slots_per_article(project).values()) == [2, 2, 2]
        assert sorted(len([a for a in got[u.pk] if a is not None]) for u in users) == [0, 0, 1, 1, 1, 1, 1, 1]
        assert Annotation.objects.count() == 6

    @pytest.mark.parametrize("round_", range(4))
    def test_claiming_and_submitting_until_done(self, race, round_):
        project, users = race
        got = _claim_all_at_once(project, users[:6], keep_going=True)

        assert slots_per_article(project) == {a.id: 2 for a in project.articles.all()}
        assert Annotation.objects.filter(status="submitted").count() == 6
        assert Annotation.objects.exclude(status="submitted").count() == 0
        for user in users[:6]:
            assert got[user.pk][-1] is None
            claimed = [a.id for a in got[user.pk][:-1]]
            assert len(claimed) == len(set(claimed))  # nobody got the same article twice
