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
from django.db.models import Exists, F, OuterRef

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


def _order(project: Project) -> tuple:
    """By id; or, with the project's "least sure first", by the current model's margin on the
    article (`training.ArticleCertainty`, written by the worker), then by id for the articles it
    has not scored."""
    from annotator.training.models import TrainingSettings  # the training app builds on this one

    if TrainingSettings.objects.filter(project=project, prefer_uncertain=True).exists():
        return (F("model_certainty__margin").asc(nulls_last=True), "id")
    return ("id",)


@transaction.atomic
def assignment_next(*, project: Project, user: AbstractBaseUser) -> Article | None:
    """The user's article in progress, else a newly claimed one, else None when nothing is left.

    Claims the first article (by id, or least sure first: `_order`) that the user has never
    opened as an analyst (so not one they submitted or skipped) and that fewer than k analysts
    hold. One that others filled meanwhile is passed over for the next.
    """
    # The user's own row, locked: two requests from the same person must not claim two articles.
    # Only that person's requests wait on it.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").get()
    own = _own_in_progress(project, user)
    if own is not None:
        return own
    opened = Annotation.objects.filter(article=OuterRef("pk"), annotator=user, kind=Annotation.Kind.ANALYST)
    order = _order(project)
    while True:
        # Read again each time round: an admin may have changed k since the last look.
        overlap = Project.objects.filter(pk=project.pk).values_list("overlap", flat=True).get()
        article = (
            project.articles.alias(taken=analysts_on_article(*HOLDING))
            .filter(~Exists(opened), taken__lt=overlap)
            .order_by(*order)
            .defer("text", "metadata")
            .first()
        )
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
