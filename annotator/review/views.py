"""The review queue, the review page with every adjudication on it, and an article's history.

Only admins and reviewers get here (`project_view(STAFF_ROLES)`). Every adjudication is a POST
carrying `version`, the gold version the page showed; an htmx request is answered with the
page's `review` partial re-rendered (or the error as text: 409 for a stale version, 422 for a
refused change), a plain one with a redirect back (or the page with the error and its status).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotator.labelling.models import Annotation, Change, Relation, Span, Stance
from annotator.labelling.rendering import layout
from annotator.labelling.forms import document_labels_from, new_span_from
from annotator.projects.access import STAFF_ROLES, project_view
from annotator.projects.models import RelationType, SpanAttribute

from . import services
from .compare import relation_rows, span_groups, stance_rows, topic_rows
from .history import SUBJECT_NAMES, state_lines, summary
from .queries import review_queue as queue_articles
from .queries import reviewed_articles, with_disagreements
from .rendering import review_text_html

PER_PAGE = 50
# Each analyst's spans are drawn with their own underline; past four they repeat (the legend
# and every mark's title still say whose span it is).
ANALYST_STYLES = 4
KIND_NAMES = {
    "boundary": "boundaries differ",
    "label": "labels differ",
    "missing": "missing for some",
    "attributes": "attributes differ",
    "topics": "topics differ",
    "stance": "stance differs",
    "links": "links differ",
}


def _article(project, article_id):
    return get_object_or_404(project.articles, pk=article_id)


@require_GET
@project_view(STAFF_ROLES)
def review_queue(request, project):
    waiting = Paginator(queue_articles(project), PER_PAGE).get_page(request.GET.get("page"))
    reviewed = Paginator(reviewed_articles(project), PER_PAGE).get_page(request.GET.get("reviewed_page"))
    reviewed_rows = with_disagreements(reviewed)
    for article in [*waiting, *reviewed_rows]:
        article.disagreement_names = [KIND_NAMES[kind] for kind in article.disagreement]
    context = {"project": project, "waiting": waiting, "reviewed": reviewed, "reviewed_rows": reviewed_rows}
    template = "review/queue.html#queue" if request.htmx else "review/queue.html"
    return render(request, template, context)


def _annotations(article):
    outgoing = Prefetch("outgoing", queryset=Relation.objects.select_related("type", "target"))
    spans = Prefetch(
        "spans", queryset=Span.objects.select_related("label").prefetch_related(outgoing).order_by("start", "-end", "id")
    )
    stances = Prefetch("stances", queryset=Stance.objects.select_related("target", "value"))
    relations = Prefetch(
        "relations", queryset=Relation.objects.select_related("type", "source__label", "target__label")
    )
    return article.annotations.select_related("annotator").prefetch_related(spans, stances, relations, "topics")


def _review_context(project, article):
    annotations = _annotations(article)
    analysts = list(
        annotations.filter(kind=Annotation.Kind.ANALYST, status=Annotation.Status.SUBMITTED).order_by(
            "annotator__username", "id"
        )
    )
    gold = annotations.filter(kind=Annotation.Kind.GOLD).first()
    gold_spans = list(gold.spans.all()) if gold else []
    # "In gold" means gold has the very span: label, offsets and attributes.
    gold_attributes = {(s.label_id, s.start, s.end): s.attributes for s in gold_spans}
    rejected = gold.changes.filter(action=Change.Action.REJECT).order_by("id") if gold else []
    rejections = {c.subject_id: c for c in rejected if c.subject == "span"}
    relation_rejections = {c.subject_id: c for c in rejected if c.subject == "relation"}
    drawn = []
    for number, analyst in enumerate(analysts):
        analyst.style = number % ANALYST_STYLES
        for span in analyst.spans.all():
            span.owner = analyst.annotator.get_username()
            span.style = f"analyst-{analyst.style}"
            key = (span.label_id, span.start, span.end)
            span.in_gold = key in gold_attributes and gold_attributes[key] == span.attributes
            # Gold has the label and offsets but other attributes: accepting would be refused as a
            # duplicate, so the page says how gold differs instead.
            span.gold_differs = key in gold_attributes and not span.in_gold
            span.rejection = rejections.get(span.id)
            drawn.append(span)
    for span in gold_spans:
        span.owner, span.style = "Gold", "gold"
        drawn.append(span)
    for span in drawn:
        # Looked up as a list: an attribute named "items" must not hide the dict's method.
        span.attribute_pairs = list(span.attributes.items())

    groups = span_groups([list(a.spans.all()) for a in analysts], gold_spans)
    for group in groups:
        group.columns = list(zip(analysts, group.cells))
        group.text = article.text[group.start : group.end]
        group.kind_names = [KIND_NAMES[k] for k in group.kind_list]
        group.key = f"{group.start}-{group.end}"
    # The decision panel opens on the first disagreement (or the first group when all agree).
    selected = next((g for g in groups if g.kinds), groups[0] if groups else None)

    links = relation_rows(
        [list(a.relations.all()) for a in analysts], list(gold.relations.all()) if gold else [], gold_spans
    )
    for row in links:
        row.columns = list(zip(analysts, row.cells))
        for analyst, cell in row.columns:
            for relation in cell:
                relation.style = f"analyst-{analyst.style}"
                relation.rejection = relation_rejections.get(relation.id)
        # One action accepts an offered link: the first analyst's that was not rejected.
        unrejected = [r for cell in row.cells for r in cell if r.rejection is None]
        row.offer = unrejected[0] if row.offered and unrejected else None
    relation_types = list(project.relation_types.select_related("source_label", "target_label"))

    labels = list(project.span_labels.prefetch_related("attributes"))
    values = {v.id: v for v in project.stance_values.all()}
    topics = topic_rows(
        project.topics.all(),
        [{t.id for t in a.topics.all()} for a in analysts],
        {t.id for t in gold.topics.all()} if gold else set(),
    )
    stances = stance_rows(
        project.stance_targets.all(),
        [{s.target_id: s.value_id for s in a.stances.all()} for a in analysts],
        {s.target_id: s.value_id for s in gold.stances.all()} if gold else {},
    )
    for row in stances:
        row.names = [values[v].name if v else None for v in row.values]
    return {
        "project": project,
        "article": article,
        "analysts": analysts,
        "gold": gold,
        "version": gold.version if gold else 0,
        "text_html": review_text_html(layout(article.text, drawn)),
        "groups": groups,
        "selected_group": selected.key if selected else None,
        "disagreements": sum(1 for g in groups if g.kinds),
        "gold_rows": _gold_rows(project, labels, gold_spans, relation_types),
        "links": links,
        "offered": [row for row in links if row.offer],
        "labels": labels,
        "topic_rows": topics,
        "stance_rows": stances,
        "stance_values": list(values.values()),
        "unsubmitted": article.annotations.filter(kind=Annotation.Kind.ANALYST).exclude(
            status=Annotation.Status.SUBMITTED
        ).count(),
    }


def _gold_rows(project, labels, gold_spans, relation_types):
    """Each gold span with its label's attribute fields, as the labelling page's span editor offers them,
    its links, and the links it could make (each type it can start, with the gold spans it can reach)."""
    choices = {
        SpanAttribute.Kind.STANCE: [v.name for v in project.stance_values.all()],
        SpanAttribute.Kind.TARGET: [t.name for t in project.stance_targets.all()],
    }
    attributes = {label.id: list(label.attributes.all()) for label in labels}
    return [
        {
            "span": span,
            "fields": [
                {"name": a.name, "value": span.attributes.get(a.name, ""), "choices": choices.get(a.kind),
                 "linked": next((r.target.text for r in span.outgoing.all() if r.type.name == a.name), None)}
                for a in attributes[span.label_id]
            ],
            "relations": list(span.outgoing.all()),
            "link_choices": [
                {
                    "type": t,
                    "targets": [s for s in gold_spans if s.id != span.id and t.target_label_id in (None, s.label_id)],
                }
                for t in relation_types if t.source_label_id == span.label_id
            ],
        }
        for span in gold_spans
    ]


@require_GET
@project_view(STAFF_ROLES)
def review_article(request, project, article_id):
    article = _article(project, article_id)
    template = "review/article.html#review" if request.htmx else "review/article.html"
    return render(request, template, _review_context(project, article))


def _review(request, project, article):
    """After a change: the re-rendered review for htmx, a redirect back for a plain POST."""
    if not request.htmx:
        return redirect("review_article", project.id, article.id)
    return render(request, "review/article.html#review", _review_context(project, article))


def _refused(request, project, article, error: ValidationError):
    """Why nothing was changed: 409 when the page was stale, 422 when the change was refused."""
    status = 409 if getattr(error, "code", None) == "stale" else 422
    message = " ".join(error.messages)
    if request.htmx:
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return render(request, "review/article.html", _review_context(project, article) | {"error": message}, status=status)


def _adjudicate(request, project, article, service, **arguments):
    """Call one review service with the version the page showed; None when it succeeded."""
    version = _version(request)
    if version is None:
        return HttpResponseBadRequest(
            "version (the gold version your page showed, 0 when there was none) is required."
        )
    try:
        service(article=article, reviewer=request.user, expected_version=version, **arguments)
    except ValidationError as error:
        return _refused(request, project, article, error)
    return None


def _version(request) -> int | None:
    try:
        version = int(request.POST["version"])
    except (KeyError, ValueError):
        return None
    return version if version >= 0 else None


def _analyst_span(article, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label", "annotation__annotator"),
        pk=span_id, annotation__article=article, annotation__kind=Annotation.Kind.ANALYST,
        annotation__status=Annotation.Status.SUBMITTED,
    )


def _gold_span(article, span_id) -> Span:
    return get_object_or_404(
        Span.objects.select_related("label", "annotation__article"),
        pk=span_id, annotation__article=article, annotation__kind=Annotation.Kind.GOLD,
    )


@require_POST
@project_view(STAFF_ROLES)
def review_accept(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _analyst_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_accept, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_reject(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _analyst_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_reject, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_add(request, project, article_id):
    article = _article(project, article_id)
    try:
        new = new_span_from(request.POST, project)
    except (KeyError, ValueError):
        return HttpResponseBadRequest("start, end, label, text and client_id are required.")
    refused = _adjudicate(
        request, project, article, services.gold_span_add, label=new.label, start=new.start, end=new.end,
        text=new.text, client_id=new.client_id, reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_update(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _gold_span(article, span_id)
    try:
        label = get_object_or_404(project.span_labels, pk=int(request.POST.get("label", span.label_id)))
    except ValueError:
        return HttpResponseBadRequest("label must be a label id.")
    attributes = {key.removeprefix("attr-"): value for key, value in request.POST.items() if key.startswith("attr-")}
    refused = _adjudicate(
        request, project, article, services.gold_span_update, span=span, label=label, attributes=attributes,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_span_delete(request, project, article_id, span_id):
    article = _article(project, article_id)
    span = _gold_span(article, span_id)
    refused = _adjudicate(
        request, project, article, services.gold_span_delete, span=span, reason=request.POST.get("reason", "")
    )
    return refused or _review(request, project, article)


def _analyst_relation(article, relation_id) -> Relation:
    return get_object_or_404(
        Relation.objects.select_related("type", "source__label", "target__label", "annotation__annotator"),
        pk=relation_id, annotation__article=article, annotation__kind=Annotation.Kind.ANALYST,
        annotation__status=Annotation.Status.SUBMITTED,
    )


@require_POST
@project_view(STAFF_ROLES)
def review_relation_accept(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = _analyst_relation(article, relation_id)
    refused = _adjudicate(
        request, project, article, services.gold_relation_accept, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_reject(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = _analyst_relation(article, relation_id)
    refused = _adjudicate(
        request, project, article, services.gold_relation_reject, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_add(request, project, article_id):
    article = _article(project, article_id)
    try:
        relation_type = get_object_or_404(RelationType, project=project, pk=int(request.POST["type"]))
        source = _gold_span(article, int(request.POST["source"]))
        target = _gold_span(article, int(request.POST["target"]))
    except (KeyError, ValueError):
        return HttpResponseBadRequest("type, source and target (gold span ids) are required.")
    refused = _adjudicate(
        request, project, article, services.gold_relation_add, relation_type=relation_type, source=source,
        target=target, reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_relation_delete(request, project, article_id, relation_id):
    article = _article(project, article_id)
    relation = get_object_or_404(
        Relation.objects.select_related("type", "source", "target"),
        pk=relation_id, annotation__article=article, annotation__kind=Annotation.Kind.GOLD,
    )
    refused = _adjudicate(
        request, project, article, services.gold_relation_delete, relation=relation,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_labels(request, project, article_id):
    article = _article(project, article_id)
    try:
        topic_ids, stances = document_labels_from(request.POST)
    except ValueError:
        return HttpResponseBadRequest("Topics and stances are ids.")
    refused = _adjudicate(
        request, project, article, services.gold_labels_set, topic_ids=topic_ids, stances=stances,
        reason=request.POST.get("reason", ""),
    )
    return refused or _review(request, project, article)


@require_POST
@project_view(STAFF_ROLES)
def review_done(request, project, article_id):
    """Mark the gold annotation reviewed, and go back to the queue for the next article."""
    article = _article(project, article_id)
    refused = _adjudicate(request, project, article, services.gold_mark_reviewed)
    if refused:
        return refused
    # The title isolated for bidi: an Arabic title must not reorder the sentence around it.
    messages.success(request, format_html("Marked “<bdi>{}</bdi>” reviewed.", article.title or article.pk))
    target = reverse("review_queue", args=[project.id])
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


HISTORY_PER_PAGE = 100


@require_GET
@project_view(STAFF_ROLES)
def article_history(request, project, article_id):
    """Every change to the article's annotations, newest first; filtered by person and kind."""
    article = _article(project, article_id)
    changes = Change.objects.filter(annotation__article=article)
    people = get_user_model().objects.filter(pk__in=changes.values("actor_id")).order_by(
        get_user_model().USERNAME_FIELD
    )
    person = request.GET.get("person", "")
    kind = request.GET.get("kind", "")
    subject = request.GET.get("subject", "")
    if person.isdigit():
        changes = changes.filter(actor_id=int(person))
    if kind in Change.Action.values:
        changes = changes.filter(action=kind)
    if subject in SUBJECT_NAMES:
        changes = changes.filter(subject=subject)
    changes = changes.select_related("actor", "annotation__annotator").order_by("-created_at", "-id")
    page = Paginator(changes, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    for change in page:
        change.before_lines, change.after_lines = state_lines(change.before, change.after, change.subject)
        change.subject_name = SUBJECT_NAMES.get(change.subject, change.subject)
        change.summary = summary(change)
    chosen = {"person": person, "kind": kind, "subject": subject}
    context = {
        "project": project, "article": article, "page": page, "people": people, "chosen": chosen,
        "kinds": Change.Action.choices, "subjects": list(SUBJECT_NAMES.items()),
        # The pager keeps the filters.
        "filter_query": urlencode({key: value for key, value in chosen.items() if value}),
    }
    template = "review/history.html#changes" if request.htmx else "review/history.html"
    return render(request, template, context)
