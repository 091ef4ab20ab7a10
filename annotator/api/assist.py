"""`/api/v1/projects/{id}/training-settings` and `…/suggesters`: the model-in-the-loop settings.
Retraining after every N newly reviewed articles and "label next: least sure first" are the Model
page's form (the same roles, checked by the same form, saved by the same service); the suggesters'
switches are the admin site's (admins only), saved through `suggester_settings_update`, which has the articles' suggestions computed
again when a switch changes."""

from django.core.exceptions import ValidationError
from ninja import Router, Schema

from annotator.projects.access import STAFF_ROLES
from annotator.projects.models import Membership
from annotator.suggestions import services as suggestions
from annotator.training import services as training
from annotator.training.forms import TrainingSettingsForm
from annotator.training.models import TrainingSettings

from .common import problems, project_for

router = Router(tags=["settings"])

ADMINS = (Membership.Role.ADMIN,)


class TrainingSettingsIO(Schema):
    """`retrain_every`: train a new model version once this many more articles have been reviewed
    since the last one; 0 trains only when someone starts it. `prefer_uncertain`: *Label next
    article* hands out first the articles the current model is least sure about."""

    retrain_every: int
    prefer_uncertain: bool


def _training_out(project) -> dict:
    settings = TrainingSettings.objects.filter(project=project).first() or TrainingSettings(project=project)
    return {"retrain_every": settings.retrain_every, "prefer_uncertain": settings.prefer_uncertain}


@router.get("/{project_id}/training-settings", response={200: TrainingSettingsIO, **problems(403, 404)},
            summary="When a new model is trained by itself")
def training_settings_read(request, project_id: int):
    project, _ = project_for(request, project_id, STAFF_ROLES)
    return _training_out(project)


@router.put("/{project_id}/training-settings", response={200: TrainingSettingsIO, **problems(403, 404)},
            summary="Set when a new model is trained by itself")
def training_settings_update(request, project_id: int, body: TrainingSettingsIO):
    """Checked as the Model page's form checks it (a whole number from 0): 422 names the field."""
    project, _ = project_for(request, project_id, STAFF_ROLES)
    form = TrainingSettingsForm(body.dict())
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    training.training_settings_update(project=project, retrain_every=form.cleaned_data["retrain_every"],
                                      prefer_uncertain=form.cleaned_data["prefer_uncertain"])
    return _training_out(project)


class SuggestersIO(Schema):
    """Which suggesters the project uses: quotations, speakers (with the quote → speaker link),
    topics by keywords, and topics from the newest ready trained model. All on until turned off."""

    quotes: bool
    speakers: bool
    topics: bool
    model: bool


def _suggesters_out(settings) -> dict:
    return {switch: getattr(settings, switch) for switch in suggestions.SWITCHES}


@router.get("/{project_id}/suggesters", response={200: SuggestersIO, **problems(403, 404)},
            summary="Which suggesters the project uses")
def suggester_settings_read(request, project_id: int):
    project, _ = project_for(request, project_id, ADMINS)
    return _suggesters_out(suggestions.suggester_settings_get(project=project))


@router.put("/{project_id}/suggesters", response={200: SuggestersIO, **problems(403, 404)},
            summary="Turn the project's suggesters on or off")
def suggester_settings_update(request, project_id: int, body: SuggestersIO):
    """Every switch is sent. When one changes, the articles' suggestions are computed again in the
    background: those of a suggester turned off disappear, one turned on proposes again."""
    project, _ = project_for(request, project_id, ADMINS)
    saved = suggestions.suggester_settings_update(project=project, **body.dict())
    return _suggesters_out(saved)
