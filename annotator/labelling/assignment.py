"""Which article an analyst labels next, with `project.overlap` (k) analysts per article.

An analyst holds a slot on an article while their annotation is in progress or submitted; a
skip gives the slot back. `assignment_next` claims a slot by creating the analyst's in-progress
annotation through `services.annotation_claim`, as the labelling page's and the API's first
change to an article does: the holders are counted under the article's row lock once the
annotation is made, so analysts asking at the same moment never give an article more than k
analysts, and they queue only when they ask for the same article (`annotation_claim` says why).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from annotator.corpus.models import Article
from annotator.projects.models import Project

from . import services
from .models import Annotation
from .queries import HOLDING, analysts_on_article


def _own_in_progress(project: Project, user: AbstractBaseUser) -> Article | None:
    return (
        project.articles.filter(
            annotations__annotator=user,
            annotations__kind=Annotation.Kind.ANALYST,
            annotations__status=Annotation.Status.IN_PROGRESS,
        )
        .order_by("id")
        .defer("text", "metadata")
        .first()
    )


def _least_sure_first(project: Project) -> bool:
    from annotator.training.models import TrainingSettings  # the training app builds on this one

    return TrainingSettings.objects.filter(project=project, prefer_uncertain=True).exists()


def _first_free(project: Project, user: AbstractBaseUser, overlap: int, least_sure: bool) -> Article | None:
    """The first article the user may claim: by id; or, least sure first, by the current model's
    margin on it (`training.ArticleCertainty`, written by the worker), then the articles it has
    not scored by id. The margin's query walks the (project, margin, article) index and stops at
    the first free article, so it costs the same whatever the project's size."""
    from annotator.training.models import ArticleCertainty  # the training app builds on this one

    # The same conditions on an article row or on its certainty row (whose primary key is the article's).
    opened = Annotation.objects.filter(article=OuterRef("pk"), annotator=user, kind=Annotation.Kind.ANALYST)
    articles = project.articles.defer("text", "metadata")
    if least_sure:
        surest_last = (ArticleCertainty.objects.filter(project=project).alias(taken=analysts_on_article(*HOLDING))
                       .filter(~Exists(opened), taken__lt=overlap).order_by("margin", "article_id"))
        article = articles.filter(pk__in=Subquery(surest_last.values("article_id")[:1])).first()
        if article is not None:
            return article
        articles = articles.filter(model_certainty__isnull=True)
    return (articles.alias(taken=analysts_on_article(*HOLDING)).filter(~Exists(opened), taken__lt=overlap)
            .order_by("id").first())


@transaction.atomic
def assignment_next(*, project: Project, user: AbstractBaseUser) -> Article | None:
    """The user's article in progress, else a newly claimed one, else None when nothing is left.

    Claims the first article (by id, or least sure first: `_first_free`) that the user has never
    opened as an analyst (so not one they submitted or skipped) and that fewer than k analysts
    hold. One that others filled meanwhile is passed over for the next.
    """
    # The user's own row, locked: two requests from the same person must not claim two articles.
    # Only that person's requests wait on it.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").get()
    own = _own_in_progress(project, user)
    if own is not None:
        return own
    least_sure = _least_sure_first(project)
    while True:
        # Read again each time round: an admin may have changed k since the last look.
        overlap = Project.objects.filter(pk=project.pk).values_list("overlap", flat=True).get()
        article = _first_free(project, user, overlap, least_sure)
        if article is None:
            return None
        try:
            with services.annotation_claim(article=article, annotator=user):
                return article
        except services.ArticleFull:
            continue  # filled by others since it was read: its slots are counted again on the next look


@transaction.atomic
def assignment_skip(*, article: Article, user: AbstractBaseUser, reason: str) -> Annotation:
    """The analyst gives the article back, saying why; its slot goes to another analyst.

    All or nothing: a refused skip (no reason) leaves no annotation behind on an untouched article.
    """
    annotation = services.annotation_get_or_create(article=article, annotator=user)
    return services.annotation_skip(annotation=annotation, reason=reason, actor=user)
