"""Suggestions written (`suggestions_compute`, by the task in `tasks`) and decided (accepted,
corrected, rejected) by an analyst on the labelling page.

Accepting goes through the labelling services an analyst's own highlight goes through
(`span_add`: the same offset and cluster checks, version, history and read-only rules), in the
caller's transaction with the annotation claimed and locked as the labelling views do; the span
keeps which suggester it came from (`Span.suggested_by`).
"""

import uuid
from collections import defaultdict

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from annotator.corpus.models import Article
from annotator.labelling import services as labelling
from annotator.labelling.models import Annotation, Span, Stance
from annotator.projects.models import Project, RelationType, SpanLabel

from . import rules
from .models import (
    MODEL_PREFIX, QUOTES, RULES, SPEAKERS, TOPICS, SuggesterSettings, Suggestion, SuggestionDecision, enabled_sources,
)

# The label names the rules' proposals are given as, first match wins (any case).
QUOTE_LABELS = ("Quote", "Quotation")
SPEAKER_LABELS = ("Source", "Speaker")
# A client id for the span an accepted suggestion becomes: the same for the same annotation and
# suggestion, so a retried accept saves one span.
_CLIENT_IDS = uuid.UUID("6b1f3c1e-4f0a-4d5e-9a51-5a3b8f3d2c10")


def _label(project: Project, names) -> SpanLabel | None:
    labels = {label.name.lower(): label for label in project.span_labels.all()}
    return next((labels[n.lower()] for n in names if n.lower() in labels), None)


def _speaker_relation(project: Project, quote: SpanLabel, speaker: SpanLabel) -> RelationType | None:
    types = project.relation_types.filter(source_label=quote).filter(Q(target_label=speaker) | Q(target_label=None))
    return min(types, key=lambda t: (t.name.lower() != "speaker", t.id), default=None)


def span_key(label: SpanLabel, start: int, end: int) -> str:
    return f"span:{label.id}:{start}:{end}"


def _clean_proposals(text: str, proposals):
    """Proposals whose edges fall on grapheme cluster boundaries, as a span's must."""
    kept = []
    for proposal in proposals:
        try:
            labelling.span_check_clusters(text=text, start=proposal.start, end=proposal.end)
        except ValidationError:
            continue
        kept.append(proposal)
    return kept


def _proposed(article: Article, project: Project, sources: list[str]) -> dict[str, list[Suggestion]]:
    """The rows each enabled rule proposes for the article, unsaved (relations point at their spans)."""
    text = article.text
    quote_label, speaker_label = _label(project, QUOTE_LABELS), _label(project, SPEAKER_LABELS)
    rows: dict[str, list[Suggestion]] = {source: [] for source in RULES}
    found_quotes = _clean_proposals(text, rules.quotes(text))
    quote_rows = {}
    if QUOTES in sources and quote_label is not None:
        for q in found_quotes:
            row = Suggestion(article=article, source=QUOTES, kind=Suggestion.Kind.SPAN, label=quote_label,
                             key=span_key(quote_label, q.start, q.end), start=q.start, end=q.end, text=q.text,
                             score=q.score)
            quote_rows[q] = row
            rows[QUOTES].append(row)
    if SPEAKERS in sources and speaker_label is not None:
        relation_type = _speaker_relation(project, quote_label, speaker_label) if quote_label else None
        for s in _clean_proposals(text, rules.speakers(text, found_quotes)):
            row = Suggestion(article=article, source=SPEAKERS, kind=Suggestion.Kind.SPAN, label=speaker_label,
                             key=span_key(speaker_label, s.start, s.end), start=s.start, end=s.end, text=s.text,
                             score=s.score)
            rows[SPEAKERS].append(row)
            # A link needs its quote suggested too (the quotes suggester may be off).
            for quote in (quote_rows[q] for q in s.quotes if q in quote_rows and relation_type is not None):
                rows[SPEAKERS].append(Suggestion(
                    article=article, source=SPEAKERS, kind=Suggestion.Kind.RELATION, relation_type=relation_type,
                    key=f"relation:{relation_type.id}:{quote.key}>{row.key}", from_span=quote, to_span=row,
                    score=min(quote.score, row.score),
                ))
    if TOPICS in sources:
        by_name = {topic.name: topic for topic in project.topics.all()}
        keywords = {topic.name: topic.keywords for topic in by_name.values() if topic.keywords.strip()}
        for name, score, _ in rules.topics(text, keywords):
            topic = by_name[name]
            rows[TOPICS].append(Suggestion(article=article, source=TOPICS, kind=Suggestion.Kind.TOPIC, topic=topic,
                                           key=f"topic:{topic.id}", score=score))
    return rows


@transaction.atomic
def suggestions_compute(*, article: Article) -> int:
    """Replace the article's rule suggestions with what the rules find now, in one transaction.

    A row whose key is proposed again is kept (with its decisions' links); the others are
    deleted, new ones inserted; a suggester the project turned off has its rows deleted. Safe to
    run twice. Returns how many rows the article has from the rules afterwards.
    """
    # Two runs for one article (a keyword change while its import's task is queued) take turns.
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk", flat=True).get()
    project = article.project
    sources = enabled_sources(project.id)
    proposed = _proposed(article, project, sources)
    existing = {(s.source, s.key): s for s in Suggestion.objects.filter(article=article, source__in=RULES)}
    wanted = {(row.source, row.key) for rows in proposed.values() for row in rows}
    Suggestion.objects.filter(pk__in=[s.pk for k, s in existing.items() if k not in wanted]).delete()
    kept = 0
    # Spans before relations: a relation row points at its two span rows.
    for kind in (Suggestion.Kind.SPAN, Suggestion.Kind.TOPIC, Suggestion.Kind.RELATION):
        for rows in proposed.values():
            for row in rows:
                if row.kind != kind:
                    continue
                kept += 1
                old = existing.get((row.source, row.key))
                if old is not None:
                    row.pk, row.created_at = old.pk, old.created_at
                    if old.score != row.score:
                        Suggestion.objects.filter(pk=old.pk).update(score=row.score)
                    continue
                row.save()  # a relation takes its spans' ids, saved just before
    return kept


# --- which suggesters a project uses ----------------------------------------------------------

SWITCHES = ("quotes", "speakers", "topics", "model")


def suggester_settings_get(*, project: Project) -> SuggesterSettings:
    """The project's switches; without a row, every suggester is on (the row is not made here)."""
    return SuggesterSettings.objects.filter(project=project).first() or SuggesterSettings(project=project)


@transaction.atomic
def suggester_settings_update(*, project: Project, quotes: bool, speakers: bool, topics: bool,
                              model: bool) -> SuggesterSettings:
    """Turn the project's suggesters on or off. When any switch changed, every article's suggestions
    are computed again by the worker once this commits (rows of a suggester turned off are deleted,
    one turned on gets its rows), as when the switches change on the admin site."""
    from .tasks import suggestions_enqueue_project  # the tasks module builds on this one

    wanted = {"quotes": quotes, "speakers": speakers, "topics": topics, "model": model}
    row = SuggesterSettings.objects.select_for_update().filter(project=project).first()
    before = {switch: getattr(row, switch) if row else True for switch in SWITCHES}  # no row: all on
    row = row or SuggesterSettings(project=project)
    for switch, on in wanted.items():
        setattr(row, switch, on)
    row.save()
    if wanted != before:
        suggestions_enqueue_project(project.id)
    return row


# --- what an analyst sees -------------------------------------------------------------------


def _enabled(suggestions, project_id: int):
    """Only the rows of suggesters the project has on, decided in the same query."""
    settings = SuggesterSettings.objects.filter(project_id=project_id)
    for source, switch in zip(RULES, ("quotes", "speakers", "topics")):
        suggestions = suggestions.exclude(Q(source=source) & Exists(settings.filter(**{switch: False})))
    return suggestions.exclude(Q(source__startswith=MODEL_PREFIX) & Exists(settings.filter(model=False)))


def suggestions_pending(*, article: Article, annotation: Annotation | None) -> list[Suggestion]:
    """The article's span, topic and stance suggestions that the analyst has not decided, from the
    suggesters the project has on, leaving out what their annotation holds already (the same
    span, the same topic, a stance toward the same target) and what they rejected from an earlier
    model version (the same topic or stance: a newer model does not ask again). Each span
    suggestion has `speaker`: the speaker suggestion its relation names, if any, and `what`: its
    text, topic, or "target: value". Read from the rows alone (never from anyone else's work), in
    one query whatever the article holds."""
    rows = _enabled(Suggestion.objects.filter(article=article), article.project_id)
    if annotation is not None:
        rows = rows.exclude(Exists(SuggestionDecision.objects.filter(
            annotation=annotation, source=OuterRef("source"), key=OuterRef("key"))))
        rows = rows.exclude(Q(source__startswith=MODEL_PREFIX) & Exists(SuggestionDecision.objects.filter(
            annotation=annotation, source__startswith=MODEL_PREFIX, key=OuterRef("key"),
            decision=SuggestionDecision.Decision.REJECTED)))
        rows = rows.exclude(Q(kind=Suggestion.Kind.SPAN) & Exists(Span.objects.filter(
            annotation=annotation, label_id=OuterRef("label_id"), start=OuterRef("start"), end=OuterRef("end"))))
        rows = rows.exclude(Q(kind=Suggestion.Kind.TOPIC) & Exists(Annotation.topics.through.objects.filter(
            annotation_id=annotation.id, topic_id=OuterRef("topic_id"))))
        rows = rows.exclude(Q(kind=Suggestion.Kind.STANCE) & Exists(Stance.objects.filter(
            annotation=annotation, target_id=OuterRef("target_id"))))
    rows = list(rows.select_related("label", "topic", "to_span", "target", "stance_value")
                .order_by("kind", "start", "-end", "id"))
    speaker_of = {r.from_span_id: r.to_span for r in rows if r.kind == Suggestion.Kind.RELATION}
    pending = [row for row in rows if row.kind != Suggestion.Kind.RELATION]
    for row in pending:
        row.speaker = speaker_of.get(row.id)
        if row.kind == Suggestion.Kind.STANCE:
            row.what = f"{row.target.name}: {row.stance_value.name}"
        else:
            row.what = row.topic.name if row.topic_id else row.text
    return pending


# --- decisions --------------------------------------------------------------------------------


def _decide(annotation: Annotation, suggestion: Suggestion, decision: str, span: Span | None = None):
    SuggestionDecision.objects.update_or_create(
        annotation=annotation, source=suggestion.source, key=suggestion.key,
        defaults={"suggestion": suggestion, "decision": decision, "span": span},
    )


def _refuse_if_off(suggestion: Suggestion, article: Article) -> None:
    if suggestion.article_id != article.id:
        raise ValidationError("That suggestion is for another article.", code="wrong_article")
    if suggestion.source not in enabled_sources(article.project_id):
        raise ValidationError("The project has turned this suggester off.", code="suggester_off")


def suggestion_accept(*, annotation: Annotation, suggestion: Suggestion, actor: AbstractBaseUser) -> Span | None:
    """Make the suggestion the analyst's own: a span (through `span_add`, with its provenance) and
    the quote → speaker link once both of its spans are the analyst's; or a topic; or the stance
    toward a target (replacing any the analyst had chosen: the page offers it only when none). The caller
    holds the annotation locked (claimed) in its transaction. Returns the span, if one."""
    article = annotation.article
    _refuse_if_off(suggestion, article)
    if suggestion.kind == Suggestion.Kind.TOPIC:
        topic_ids = list(annotation.topics.values_list("id", flat=True))
        labelling.document_labels_set(annotation=annotation, topic_ids=[*topic_ids, suggestion.topic_id], stances={},
                                      actor=actor)
        _decide(annotation, suggestion, SuggestionDecision.Decision.ACCEPTED)
        return None
    if suggestion.kind == Suggestion.Kind.STANCE:
        labelling.document_labels_set(annotation=annotation, topic_ids=list(annotation.topics.values_list("id", flat=True)),
                                      stances={suggestion.target_id: suggestion.stance_value_id}, actor=actor)
        _decide(annotation, suggestion, SuggestionDecision.Decision.ACCEPTED)
        return None
    if suggestion.kind != Suggestion.Kind.SPAN:
        raise ValidationError("Only a span, a topic or a stance is accepted; a link comes with its spans.",
                              code="bad_kind")
    span = labelling.span_add(
        annotation=annotation, actor=actor, label=suggestion.label, start=suggestion.start, end=suggestion.end,
        text=suggestion.text, client_id=uuid.uuid5(_CLIENT_IDS, f"{annotation.id}:{suggestion.source}:{suggestion.key}"),
        suggested_by=suggestion.source,
    )
    _decide(annotation, suggestion, SuggestionDecision.Decision.ACCEPTED, span)
    _link_accepted(annotation, suggestion, actor)
    return span


def _link_accepted(annotation: Annotation, suggestion: Suggestion, actor: AbstractBaseUser) -> None:
    """Make each suggested link of `suggestion` whose other span the analyst has too."""
    relations = Suggestion.objects.filter(
        kind=Suggestion.Kind.RELATION, article_id=suggestion.article_id,
        source__in=enabled_sources(annotation.article.project_id),
    ).filter(Q(from_span=suggestion) | Q(to_span=suggestion)).select_related("relation_type", "from_span", "to_span")
    for relation in relations:
        ends = [_own_span(annotation, relation.from_span), _own_span(annotation, relation.to_span)]
        if None in ends:
            continue
        labelling.relation_create(relation_type=relation.relation_type, source=ends[0], target=ends[1], actor=actor)
        _decide(annotation, relation, SuggestionDecision.Decision.ACCEPTED)


def _own_span(annotation: Annotation, suggestion: Suggestion) -> Span | None:
    """The analyst's span a span suggestion became (accepted or corrected), or the same span made by hand."""
    decided = SuggestionDecision.objects.filter(
        annotation=annotation, source=suggestion.source, key=suggestion.key, span__isnull=False,
        decision__in=[SuggestionDecision.Decision.ACCEPTED, SuggestionDecision.Decision.CORRECTED],
    ).select_related("span").first()
    if decided is not None:
        return decided.span
    return annotation.spans.filter(label_id=suggestion.label_id, start=suggestion.start, end=suggestion.end).first()


def suggestion_reject(*, annotation: Annotation, suggestion: Suggestion) -> None:
    """The analyst says no: the suggestion is no longer shown to them, and counts as rejected."""
    _refuse_if_off(suggestion, annotation.article)
    labelling._refuse_if_reviewed(annotation)
    _decide(annotation, suggestion, SuggestionDecision.Decision.REJECTED)


def suggestions_accept_all(*, annotation: Annotation, actor: AbstractBaseUser) -> int:
    """Accept every suggestion the analyst has not decided (spans first, so links follow)."""
    pending = suggestions_pending(article=annotation.article, annotation=annotation)
    topics = [s for s in pending if s.kind == Suggestion.Kind.TOPIC]
    # One value a target: were two sources to propose two, the surer one (then the first) is taken.
    stances = {}
    for suggestion in sorted((s for s in pending if s.kind == Suggestion.Kind.STANCE), key=lambda s: (-s.score, s.id)):
        stances.setdefault(suggestion.target_id, suggestion)
    for suggestion in [s for s in pending if s.kind == Suggestion.Kind.SPAN]:
        suggestion_accept(annotation=annotation, suggestion=suggestion, actor=actor)
    if topics or stances:
        chosen = list(annotation.topics.values_list("id", flat=True))
        labelling.document_labels_set(
            annotation=annotation, topic_ids=[*chosen, *(s.topic_id for s in topics)],
            stances={target_id: s.stance_value_id for target_id, s in stances.items()}, actor=actor,
        )
        for suggestion in [*topics, *stances.values()]:
            _decide(annotation, suggestion, SuggestionDecision.Decision.ACCEPTED)
    return len(pending)


def suggestion_match_span(*, span: Span) -> Suggestion | None:
    """An analyst's hand-made span over an undecided span suggestion of its label: the same
    offsets accept it, overlapping ones correct it. Either way the span keeps the suggester as
    its provenance and the suggestion is decided. Returns that suggestion, if any."""
    annotation = span.annotation
    overlapping = Suggestion.objects.filter(
        article_id=annotation.article_id, kind=Suggestion.Kind.SPAN, label_id=span.label_id,
        start__lt=span.end, end__gt=span.start,
    )
    # A hand-made span is the page's most common change, and most are over no suggestion: one
    # plain query says so; which suggester is on and what was decided is asked only when one is.
    if not overlapping.exists():
        return None
    candidates = _enabled(overlapping, annotation.article.project_id).exclude(Exists(SuggestionDecision.objects.filter(
        annotation=annotation, source=OuterRef("source"), key=OuterRef("key"))))
    match = candidates.order_by("start", "id").first()
    if match is None:
        return None
    same = (match.start, match.end) == (span.start, span.end)
    _decide(annotation, match, SuggestionDecision.Decision.ACCEPTED if same else SuggestionDecision.Decision.CORRECTED,
            span)
    if span.suggested_by is None:
        span.suggested_by = match.source
        span.save(update_fields=["suggested_by"])
    _link_accepted(annotation, match, annotation.annotator)
    return match


def suggestion_topics_chosen(*, annotation: Annotation) -> None:
    """Topics and stances the analyst chose in the form that were suggested: a suggested topic
    ticked is accepted; a stance chosen toward a target decides its suggestion, accepted when it
    is the suggested value and corrected when it is another."""
    chosen = set(annotation.topics.values_list("id", flat=True))
    stances = dict(annotation.stances.values_list("target_id", "value_id"))
    decided = set(annotation.suggestion_decisions.values_list("source", "key"))
    suggested = Suggestion.objects.filter(
        Q(kind=Suggestion.Kind.TOPIC, topic_id__in=chosen) | Q(kind=Suggestion.Kind.STANCE, target_id__in=stances),
        article_id=annotation.article_id, source__in=enabled_sources(annotation.article.project_id),
    )
    Decision = SuggestionDecision.Decision
    for suggestion in suggested:
        if (suggestion.source, suggestion.key) in decided:
            continue
        same = suggestion.kind == Suggestion.Kind.TOPIC or stances[suggestion.target_id] == suggestion.stance_value_id
        _decide(annotation, suggestion, Decision.ACCEPTED if same else Decision.CORRECTED)


# --- counts for the agreement page ---------------------------------------------------------------


def suggestion_counts(*, project: Project, annotations=None) -> list[dict]:
    """Per suggester: how many suggestions the project's analysts accepted, corrected, rejected.

    Counted as the spans and stances stand now: an accepted span the analyst then moved or
    relabelled counts as corrected, and one they deleted as rejected; an accepted stance changed
    to another value counts as corrected, and one cleared as rejected."""
    decisions = SuggestionDecision.objects.filter(
        annotation__article__project=project, annotation__kind=Annotation.Kind.ANALYST
    )
    if annotations is not None:
        decisions = decisions.filter(annotation__in=annotations)
    Decision = SuggestionDecision.Decision
    # A stance is counted as it stands now too: accepted, then changed in the select, is corrected.
    stances = {
        (annotation_id, target_id): value_id
        for annotation_id, target_id, value_id in Stance.objects.filter(
            annotation__in=decisions.filter(key__startswith="stance:").values("annotation")
        ).values_list("annotation_id", "target_id", "value_id")
    }
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Decision.values, 0))
    for source, decision, key, span_id, label_id, start, end, annotation_id in decisions.values_list(
        "source", "decision", "key", "span_id", "span__label_id", "span__start", "span__end", "annotation_id"
    ):
        if key.startswith("relation:"):
            continue  # a link is accepted with its spans, and never decided alone
        if key.startswith("stance:") and decision == Decision.ACCEPTED:
            _, target_id, value_id = key.split(":")
            now = stances.get((annotation_id, int(target_id)))
            if now is None:
                decision = Decision.REJECTED
            elif now != int(value_id):
                decision = Decision.CORRECTED
        if key.startswith("span:") and decision == Decision.ACCEPTED:
            if span_id is None:
                decision = Decision.REJECTED
            elif key != f"span:{label_id}:{start}:{end}":
                decision = Decision.CORRECTED
        counts[source][decision] += 1
    rows = []
    for source in sorted(counts):
        row = {"source": source, **counts[source]}
        row["total"] = sum(counts[source].values())
        row["accepted_share"] = row["accepted"] / row["total"] if row["total"] else None
        rows.append(row)
    return rows
