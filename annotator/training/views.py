from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotator.projects.access import STAFF_ROLES, project_view

from . import services
from .chart import curve_chart
from .forms import TrainingSettingsForm
from .learn import MIN_ARTICLES
from .models import TrainingSettings


def _with_chart(version):
    version.chart = curve_chart(version.curve)
    return version


def _context(project, *, form=None, error=None):
    settings = TrainingSettings.objects.filter(project=project).first() or TrainingSettings(project=project)
    versions = [_with_chart(v) for v in project.model_versions.select_related("created_by")]
    return {
        "project": project, "versions": versions, "error": error, "min_articles": MIN_ARTICLES,
        "reviewed": services.gold_annotations(project).count(),
        "form": form or TrainingSettingsForm(instance=settings),
        "current": services.current_version(project.id), "keep": services.models_keep(),
    }


@require_GET
@project_view(roles=STAFF_ROLES)
def model_page(request, project):
    """The project's trained models: start one, see each version's scores and learning curve."""
    return render(request, "training/model_page.html", _context(project))


@require_POST
@project_view(roles=STAFF_ROLES)
def model_train_start(request, project):
    error = None
    try:
        services.model_training_start(project=project, user=request.user)
    except ValidationError as refused:
        error = refused.messages[0]
    if request.htmx:
        return render(request, "training/model_page.html#versions", _context(project, error=error),
                      status=409 if error else 200)
    if error:
        return render(request, "training/model_page.html", _context(project, error=error), status=409)
    return redirect("model_page", project.id)


@require_GET
@project_view(roles=STAFF_ROLES)
def model_version_detail(request, project, version_id):
    """One version's status and scores; the page polls it while it trains."""
    version = get_object_or_404(project.model_versions.select_related("created_by"), pk=version_id)
    if request.htmx:
        return render(request, "training/model_page.html#version",
                      {"project": project, "version": _with_chart(version),
                       "current": services.current_version(project.id)})
    return redirect(f"{reverse('model_page', args=[project.id])}#model-{version.id}")


@require_POST
@project_view(roles=STAFF_ROLES)
def training_settings_update(request, project):
    form = TrainingSettingsForm(request.POST)
    saved = form.is_valid()
    if saved:
        services.training_settings_update(project=project, retrain_every=form.cleaned_data["retrain_every"],
                                          prefer_uncertain=form.cleaned_data["prefer_uncertain"])
    if request.htmx:
        return render(request, "training/model_page.html#settings", {**_context(project, form=form), "saved": saved},
                      status=200 if saved else 400)
    if saved:
        return redirect("model_page", project.id)
    return render(request, "training/model_page.html", _context(project, form=form), status=400)
