from annotator.corpus.models import Article
from annotator.projects.models import Project

from .models import Annotation

DONE = (Annotation.Status.SUBMITTED, Annotation.Status.SKIPPED)


def next_article_for(*, project: Project, user) -> Article | None:
    """The first article in the project that this user has not submitted or skipped."""
    finished = Annotation.objects.filter(annotator=user, article__project=project, status__in=DONE)
    return project.articles.exclude(id__in=finished.values("article_id")).order_by("id").first()


def progress_for(*, project: Project, user) -> dict[str, int]:
    total = project.articles.count()
    done = Annotation.objects.filter(annotator=user, article__project=project, status__in=DONE).count()
    return {"done": done, "total": total}
