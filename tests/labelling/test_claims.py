"""Taking one of an article's k slots (`services.annotation_claim`) while others do at the same moment.

Two threads, two connections, each step ordered by events: on PostgreSQL these show that a claim
waits for no other analyst's change (the count that decides is made last, under the article's
row lock, not the project's), and that the count still never lets k + 1 analysts in.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from annotator.labelling import services
from annotator.labelling.models import Annotation
from annotator.projects.models import Membership
from tests.concurrency import all_at_once
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # seconds: only reached when a step never happens

# SQLite lets one writer in at a time (each transaction begins IMMEDIATE), so two claims can never
# be under way together there: these two need a database where they can.
overlapping = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")


@pytest.fixture
def race():
    project = make_project(name="Claims")
    first, second = UserFactory(username="first"), UserFactory(username="second")
    Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in (first, second))
    return project, first, second


def _hold_a_claim_open(article, user, inside: threading.Event, release: threading.Event, outcome: list,
                       counted=False):
    """In a thread: claim the article and stay inside the claim (the change under way) until `release`;
    with `counted`, stay after the claim's count instead, its lock held, until the commit."""

    def work():
        try:
            with transaction.atomic():
                with services.annotation_claim(article=article, annotator=user):
                    if not counted:
                        inside.set()
                        assert release.wait(WAIT)
                if counted:
                    inside.set()
                    assert release.wait(WAIT)
            outcome.append("saved")
        except services.ArticleFull:
            outcome.append("full")
        except BaseException as error:  # reported by the test thread
            outcome.append(error)
        finally:
            inside.set()
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _claim_in_a_thread(article, user, outcome: list):
    def work():
        try:
            with services.annotation_claim(article=article, annotator=user):
                pass
            outcome.append("saved")
        except services.ArticleFull:
            outcome.append("full")
        except BaseException as error:
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _claim_while_another_is_open(held_article, holder_user, claimed_article, claimer_user, *, counted=False,
                                 waits_on=None):
    """`holder_user`'s claim of `held_article` is opened and held; meanwhile `claimer_user` claims
    `claimed_article`. With `waits_on` None, that claim must end without waiting for the open one;
    otherwise it must come to wait for a lock in its statement containing `waits_on`. Then the first
    is let go. Returns what each got ("saved" or "full"), the holder's first."""
    inside, release, held, done = threading.Event(), threading.Event(), [], []
    holder = _hold_a_claim_open(held_article, holder_user, inside, release, held, counted=counted)
    try:
        assert inside.wait(WAIT)
        claimer = _claim_in_a_thread(claimed_article, claimer_user, done)
        if waits_on is None:
            claimer.join(WAIT)
            assert not claimer.is_alive(), "the claim waited for the open one"
        else:
            _wait_until_a_claim_waits_for_a_lock(waits_on)
    finally:
        release.set()
        holder.join(WAIT)
    claimer.join(WAIT)
    return held, done


@overlapping
@pytest.mark.parametrize("counted", [False, True], ids=["during the change", "after the count"])
def test_a_first_change_on_another_article_does_not_wait_for_one_under_way(race, counted):
    """The old claim locked the project's row for the whole change: the second analyst's first
    span, on another article, queued behind the first's. Now it goes through while the first
    change is still open, even once the first has counted and holds its article's lock."""
    project, first, second = race
    one, other = ArticleFactory.create_batch(2, project=project)
    held, done = _claim_while_another_is_open(one, first, other, second, counted=counted)
    assert done == ["saved"] and held == ["saved"]
    assert sorted(Annotation.objects.values_list("annotator__username", "article_id")) == [
        ("first", one.id), ("second", other.id)
    ]


@overlapping
def test_the_count_that_decides_is_made_last_so_a_late_claim_is_refused(race):
    """k = 1. The first analyst's change is under way (their annotation inserted, not committed)
    when the second's claim of the same article starts and commits: the second does not wait
    for the first, and the first, counting last under the article's lock, sees the second's
    annotation and is refused, so the article never has two analysts."""
    project, first, second = race
    article = ArticleFactory(project=project)
    held, done = _claim_while_another_is_open(article, first, article, second)
    assert done == ["saved"] and held == ["full"]
    assert list(Annotation.objects.values_list("annotator__username", flat=True)) == ["second"]


def _wait_until_a_claim_waits_for_a_lock(statement):
    """Until another connection's statement containing `statement` waits for a lock."""
    deadline = time.monotonic() + WAIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND strpos(query, %s) > 0 AND pid <> pg_backend_pid()", [statement])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"no statement with {statement} ever waited for a lock")


@overlapping
def test_a_claim_that_waited_for_the_lock_counts_the_claim_committed_meanwhile(race):
    """k = 1. The first analyst has counted (room for one: theirs) and holds the article's lock
    until their commit; the second's claim, which saw no holder when it began, waits for that lock
    in its own count. The count runs once the lock is granted, with a new snapshot, so it sees the
    first's committed annotation and refuses the second. (Counted in the snapshot its statement
    began with, it would see only its own annotation and let two analysts in.)"""
    project, first, second = race
    article = ArticleFactory(project=project)
    held, done = _claim_while_another_is_open(article, first, article, second, counted=True,
                                              waits_on="labelling_claim_count")
    assert held == ["saved"]
    assert done == ["full"]
    assert list(Annotation.objects.values_list("annotator__username", flat=True)) == ["first"]


@overlapping
def test_the_same_analysts_two_first_changes_at_once_make_one_annotation(race):
    """Two tabs of one analyst: the first's claim has inserted the annotation (not committed);
    the second saw none, so it inserts too, waits on the unique index, fails once the first
    commits, and takes the first's annotation: both changes are saved, into one annotation."""
    project, first, _ = race
    article = ArticleFactory(project=project)
    held, done = _claim_while_another_is_open(article, first, article, first,
                                              waits_on='INSERT INTO "labelling_annotation"')
    assert held == ["saved"] and done == ["saved"]
    assert list(Annotation.objects.values_list("annotator__username", flat=True)) == ["first"]


@pytest.mark.parametrize("round_", range(4))
def test_many_first_changes_at_once_on_one_article_give_exactly_k(round_):
    project = make_project(name="Crowd")
    project.overlap = 3
    project.save(update_fields=["overlap"])
    article = ArticleFactory(project=project)
    users = [UserFactory(username=f"crowd{n}") for n in range(8)]
    Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in users)
    outcome = []

    def work(user):
        try:
            with services.annotation_claim(article=article, annotator=user):
                pass
            outcome.append("saved")
        except services.ArticleFull:
            outcome.append("full")

    assert all_at_once(work, users, timeout=WAIT) == []
    assert sorted(outcome) == ["full"] * 5 + ["saved"] * 3
    assert Annotation.objects.filter(article=article).count() == 3
