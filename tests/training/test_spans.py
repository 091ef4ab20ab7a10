"""The span model: learned from gold spans on the snapshot tokenizer's tokens, scored by exact
match, and suggesting spans as `model:<id>` on articles no one has reviewed."""

import pytest

from annotator.labelling.models import Annotation, Span
from annotator.suggestions.models import SuggesterSettings, Suggestion, SuggestionDecision
from annotator.suggestions.services import suggestion_accept, suggestions_pending
from annotator.training import learn, services, spans
from annotator.training.models import ModelVersion
from tests.factories import ArticleFactory

from .conftest import quoted_corpus

pytestmark = pytest.mark.django_db

NEW = "The minister said «we will not sign this week» before leaving.\nOthers met in the capital."
QUOTED = "we will not sign this week"


def train(project, user, django_capture_on_commit_callbacks) -> ModelVersion:
    with django_capture_on_commit_callbacks(execute=True):
        version = services.model_training_start(project=project, user=user)
    version.refresh_from_db()
    assert version.status == "ready", version.error
    return version


def test_tags_follow_the_exports_tokens_and_a_quotation_is_a_feature():
    text = "He said «we agree» today.\nوقال الوزير إن «الحوار ممكن»."
    records = [{"label": 1, "start": 9, "end": 17, "id": 0}, {"label": 2, "start": 0, "end": 2, "id": 1},
               {"label": 1, "start": 3, "end": 12, "id": 2}]  # the last: not on token boundaries
    built, unaligned = spans.sequences(text, "en", records)
    assert [text[s:e] for s, e in zip(built[0].starts, built[0].ends)] == [
        "He", "said", "«", "we", "agree", "»", "today", "."]
    assert built[0].tags[1] == ["O", "O", "O", "B", "I", "O", "O", "O"]
    assert built[0].tags[2] == ["B", "O", "O", "O", "O", "O", "O", "O"]
    assert built[1].tags[1] == ["O"] * len(built[1].starts)  # the Arabic line: no span of label 1
    assert [u["id"] for u in unaligned] == [2]
    inside = ["in" in row for row in built[1].features]
    words = [text[s:e] for s, e in zip(built[1].starts, built[1].ends)]
    assert [w for w, i in zip(words, inside) if i] == ["الحوار", "ممكن"]


def test_a_model_learns_that_text_in_guillemets_is_a_quote_and_suggests_it(
        project, reviewer, analyst, model_root, django_capture_on_commit_callbacks):
    quoted_corpus(project, reviewer, 40)
    waiting = ArticleFactory(project=project, text=NEW)
    version = train(project, reviewer, django_capture_on_commit_callbacks)

    rows = {row["label"]: row for row in version.scores["spans"]}
    assert rows["Quote"]["trained"] and rows["Quote"]["support"] >= 16  # 8 held-out articles, 2 or 3 each
    assert (rows["Quote"]["precision"], rows["Quote"]["recall"]) == (1.0, 1.0), rows
    assert not rows["Source"]["trained"] and not rows["Claim"]["trained"]  # no gold span of theirs
    assert version.scores["spans_micro_f1"] == 1.0
    sample = version.scores["spans_sample"]
    assert (sample["train_articles"], sample["of_train"], sample["test_articles"], sample["of_test"]) == (32, 32, 8, 8)
    assert [p["size"] for p in version.curve] == [10, 25, 32]
    assert all(0 <= p["span_f1"] <= 1 for p in version.curve) and version.curve[-1]["span_f1"] == 1.0

    # Computed once the model was ready, for the article nobody has reviewed.
    [suggestion] = Suggestion.objects.filter(source=version.source, kind="span")
    start = NEW.index(QUOTED)
    assert (suggestion.article_id, suggestion.label.name, suggestion.start, suggestion.end, suggestion.text) == (
        waiting.id, "Quote", start, start + len(QUOTED), QUOTED)
    assert suggestion.key == f"span:{suggestion.label_id}:{start}:{start + len(QUOTED)}"
    assert 0.5 < suggestion.score <= 1

    # The analyst sees it among the page's suggestions and accepts it: a span of theirs that
    # keeps where it came from.
    annotation = Annotation.objects.create(article=waiting, annotator=analyst)
    pending = [s for s in suggestions_pending(article=waiting, annotation=annotation) if s.source == version.source]
    assert [(s.kind, s.what) for s in pending] == [("span", QUOTED)]
    span = suggestion_accept(annotation=annotation, suggestion=pending[0], actor=analyst)
    assert (span.text, span.suggested_by, span.label.name) == (QUOTED, f"model:{version.id}", "Quote")
    assert SuggestionDecision.objects.get(annotation=annotation).decision == "accepted"


def test_model_spans_never_on_reviewed_articles_and_off_with_the_switch(
        project, reviewer, django_capture_on_commit_callbacks):
    articles = quoted_corpus(project, reviewer, 30)
    version = train(project, reviewer, django_capture_on_commit_callbacks)
    # A reviewed article: the model may have learned its very gold; it gets nothing.
    assert services.model_suggestions_compute(article=articles[0]) == 0
    assert not Suggestion.objects.filter(article__in=articles).exists()
    new = ArticleFactory(project=project, text=NEW)
    assert services.model_suggestions_compute(article=new) == 1
    assert Suggestion.objects.filter(article=new, source=version.source, kind="span").count() == 1

    SuggesterSettings.objects.create(project=project, model=False)
    assert [s for s in suggestions_pending(article=new, annotation=None) if s.source.startswith("model:")] == []
    assert services.model_suggestions_compute(article=new) == 0
    assert not Suggestion.objects.filter(article=new, source=version.source).exists()


def test_only_gold_is_learned_from_never_an_analysts_unreviewed_spans(
        project, reviewer, analyst, django_capture_on_commit_callbacks):
    """Blind labelling: what one analyst marked, before review, never comes back as a suggestion."""
    quoted_corpus(project, reviewer, 20)
    claim = project.span_labels.get(name="Claim")
    for i in range(20):
        text = f"Reports say ‹the vote moves to day {i}› officials said."
        article = ArticleFactory(project=project, text=text)
        own = Annotation.objects.create(article=article, annotator=analyst, status=Annotation.Status.SUBMITTED)
        start, end = text.index("the vote"), text.index("›")
        Span.objects.create(annotation=own, label=claim, start=start, end=end, text=text[start:end])
    version = train(project, reviewer, django_capture_on_commit_callbacks)
    assert not {row["label"]: row for row in version.scores["spans"]}["Claim"]["trained"]
    assert not Suggestion.objects.filter(source=version.source, label=claim).exists()
    assert "spans" in services.load_bundle(version) and claim.id not in services.load_bundle(version)["spans"]


def test_a_large_training_share_is_sampled_for_the_spans(client, project, reviewer, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    quoted_corpus(project, reviewer, 30)
    monkeypatch.setattr(spans, "MAX_TRAIN_TOKENS", 300)  # a few articles' worth
    monkeypatch.setattr(spans, "MAX_TEST_TOKENS", 100)
    version = train(project, reviewer, django_capture_on_commit_callbacks)
    sample = version.scores["spans_sample"]
    assert 1 <= sample["train_articles"] < sample["of_train"] == 24
    assert sample["train_tokens"] <= 300 or sample["train_articles"] == 1
    assert 1 <= sample["test_articles"] < sample["of_test"] == 6
    # The topics' points go on to all 24; the spans' stop at the sample's size.
    spans_curve = [p["size"] for p in version.curve if p.get("span_f1") is not None]
    assert spans_curve[-1] == sample["train_articles"] and version.curve[-1]["size"] == 24
    # The page says so.
    from django.urls import reverse

    client.force_login(reviewer)
    html = client.get(reverse("model_page", args=[project.id])).content.decode()
    assert (f"Sampled: the span model learned from the first {sample['train_articles']} of the 24 training articles "
            f"({sample['train_tokens']} tokens; at most 300 are used") in html
    assert f"was scored on {sample['test_articles']} of the 6 held-out articles" in html


def test_a_model_without_spans_suggests_none():
    assert learn.predict_spans({"topics": {}, "threshold": 0.5}, NEW, "en") == []  # trained before spans were


def test_the_model_page_shows_the_spans_scores_and_curve(client, project, reviewer,
                                                         django_capture_on_commit_callbacks):
    import re

    from django.urls import reverse

    quoted_corpus(project, reviewer, 30)
    version = train(project, reviewer, django_capture_on_commit_callbacks)
    client.force_login(reviewer)
    html = client.get(reverse("model_page", args=[project.id])).content.decode()
    assert "Spans on the held-out articles (exact match)" in html
    quote = next(row for row in version.scores["spans"] if row["label"] == "Quote")
    assert re.search(r"<th scope=\"row\"><bdi>Quote</bdi></th><td>1.00</td><td>1.00</td><td>1.00</td><td>%d</td>"
                     % quote["support"], html)
    assert "not learned: no reviewed span of this label" in html
    assert "Spans, all together: F1 1.00." in html and "Learned from all 24 training articles" in html
    [line] = re.findall(r'<polyline class="curve-line-spans" points="([^"]+)">', html)
    assert len(line.split()) == len(version.curve) == 2  # 10 and all 24 training articles
    assert html.count('class="curve-point-spans"') == 2 and " style=" not in html
