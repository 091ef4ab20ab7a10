"""Which article an analyst labels next, with `project.overlap` (k) analysts per article.

An analyst holds a slot on an article while their annotation is in progress or submitted; a
skip gives the slot back. `assignment_next` claims a slot by creating the analyst's in-progress
annotation, and counts the slots already taken while it holds the project's lock, so analysts
asking at the same moment queue up instead of all seeing the same free slot: no article ever
gets more than k analysts through it. An analyst who opens an article from the project list (by
its URL) takes a slot the same way with their first change (`services.annotation_claim`), so a
full article cannot be started from there either.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef

from annotator.corpus.models import Article
from annotator.projects.models import Project
from annotator.projects.services import project_lock

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


@transaction.atomic
def assignment_next(*, project: Project, user: AbstractBaseUser) -> Article | None:
    """The user's article in progress, else a newly claimed one, else None when nothing is left.

    Claims the first article (by id) that the user has never opened as an analyst (so not one
    they submitted or skipped) and that fewer than k analysts hold.
    """
    project = project_lock(project_id=project.pk)
    # Read under the lock too: two requests from the same person must not claim two articles.
    own = _own_in_progress(project, user)
    if own is not None:
        return own
    opened = Annotation.objects.filter(article=OuterRef("pk"), annotator=user, kind=Annotation.Kind.ANALYST)
    article = (
        project.articles.alias(taken=analysts_on_article(*HOLDING))
        .filter(~Exists(opened), taken__lt=project.overlap)
        .order_by("id")
        .defer("text", "metadata")
        .first()
    )
    if article is not None:
        Annotation.objects.create(article=article, annotator=user, kind=Annotation.Kind.ANALYST)
    return article


@transaction.atomic
def assignment_skip(*, article: Article, user: AbstractBaseUser, reason: str) -> Annotation:
    """The analyst gives the article back, saying why; its slot goes to another analyst.

    All or nothing: a refused skip (no reason) leaves no annotation behind on an untouched article.
    """
    annotation = services.annotation_get_or_create(article=article, annotator=user)
    return services.annotation_skip(annotation=annotation, reason=reason, actor=user)
