from django.core.paginator import Paginator
from django.db.models import Count, OuterRef
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotator.labelling.models import Annotation

from .access import STAFF_ROLES, login_required_htmx, project_view
from .models import Project


@require_GET
@login_required_htmx
def home(request):
    projects = Project.objects.for_user(request.user).annotate(article_count=Count("articles", distinct=True))
    return render(request, "projects/home.html", {"projects": projects})


STATUS_LABELS = dict(Annotation.Status.choices)


@require_GET
@project_view()
def project_detail(request, project):
    articles = project.articles.annotate(
        my_status=Annotation.objects.filter(article=OuterRef("pk"), annotator=request.user).values("status")[:1]
    ).defer("text", "metadata")
    page = Paginator(articles, 100).get_page(request.GET.get("page"))
    for article in page:
        article.status_label = STATUS_LABELS.get(article.my_status, "Not started")
    done = project.articles.filter(
        annotations__annotator=request.user, annotations__status=Annotation.Status.SUBMITTED
    ).count()
    context = {
        "project": project,
        "page": page,
        "done": done,
        "total": project.articles.count(),
        "can_manage": request.role in STAFF_ROLES,
    }
    return render(request, "projects/project_detail.html", context)
