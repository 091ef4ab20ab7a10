"""The learning itself, apart from the database: what a `ModelVersion` is trained from and scored on.

Topics: one logistic regression per topic over TF-IDF words (and word pairs, from 1,000
articles on) of the article's text (multi-label: each topic is decided alone). Stance: per
target, one multiclass logistic regression over the same features, from the articles whose gold has a stance on that target.
Scores are per label on a held-out share of the gold articles (split by a seeded shuffle); the
shipped models are the ones scored, trained on the rest. `predict` gives a text's topics and stance
per target, and the margin of the model's least sure decision (what "label next: least sure first"
orders by). Spans: a CRF per span label on the
snapshot tokenizer's tokens (`spans`), on a sample of the same split when it is large.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

# scikit-learn is imported where a model is trained or scored, not here: importing it costs about
# 1.5 s of CPU (scipy, pandas), which every process that loads the app would pay (the worker
# imports this module to recover trainings; each web process and manage.py command too).
if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

from . import spans as span_model

# A topic is suggested when the model gives it at least this probability.
THRESHOLD = 0.5
# A stance is suggested when the model gives its value at least this probability (of all values).
STANCE_THRESHOLD = 0.5
HELD_OUT = 0.2
# Fewer reviewed articles than this cannot be both trained on and scored.
MIN_ARTICLES = 10
CURVE_SIZES = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000)


class TooFew(ValueError):
    """Too few reviewed articles to train on and score."""


@dataclass
class Example:
    article_id: int
    text: str
    topics: set[int] = field(default_factory=set)
    stances: dict[int, int] = field(default_factory=dict)  # target id → value id
    language: str = ""
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (label id, start, end)


@dataclass
class Trained:
    bundle: dict
    scores: dict
    curve: list[dict]
    train_count: int
    test_count: int


def split(examples: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    ordered = sorted(examples, key=lambda e: e.article_id)
    random.Random(seed).shuffle(ordered)
    held = max(1, round(len(ordered) * HELD_OUT))
    return ordered[held:], ordered[:held]


def _vectorizer(n: int) -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # A small corpus sees most word pairs once: as features they are noise that the classifier
    # learns instead of the words (measured on the tests' corpus: recall 0.7 with pairs, 1.0
    # without). A big one sees them repeated; pairs seen once are dropped (min_df) there.
    small = n < 1000
    return TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 1) if small else (1, 2), min_df=1 if small else 2,
        max_features=300_000, dtype=np.float32,
    )


def _classifier() -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # Balanced: a topic is on a small share of the articles, and recall matters to an analyst.
    return LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000, solver="liblinear")


def _fit_topics(X, examples: list[Example], topic_ids: list[int]) -> dict[int, LogisticRegression]:
    models = {}
    for topic_id in topic_ids:
        y = np.array([topic_id in e.topics for e in examples])
        if y.any() and not y.all():  # a topic never (or always) seen cannot be learned
            models[topic_id] = _classifier().fit(X, y)
    return models


def _topic_matrix(models: dict, X, topic_ids: list[int]) -> np.ndarray:
    predicted = np.zeros((X.shape[0], len(topic_ids)), dtype=bool)
    for column, topic_id in enumerate(topic_ids):
        if topic_id in models:
            predicted[:, column] = models[topic_id].predict_proba(X)[:, 1] >= THRESHOLD
    return predicted


def _truth(examples: list[Example], topic_ids: list[int]) -> np.ndarray:
    return np.array([[t in e.topics for t in topic_ids] for e in examples], dtype=bool).reshape(len(examples), -1)


def _per_label(y_true, y_pred, labels, names) -> list[dict]:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return [
        {"label": names[label], "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
        for label, pi, ri, fi, si in zip(labels, p, r, f, support)
    ]


def _micro_f1(truth: np.ndarray, predicted: np.ndarray) -> float | None:
    if not truth.size:
        return None
    from sklearn.metrics import precision_recall_fscore_support

    _, _, f, _ = precision_recall_fscore_support(truth, predicted, average="micro", zero_division=0)
    return float(f)


def train(
    examples: list[Example], *, topics: dict[int, str], targets: dict[int, str], values: dict[int, str], seed: int,
    progress: Callable[[int, int], None] = lambda done, total: None, span_labels: dict[int, str] | None = None,
) -> Trained:
    """Fit, score and draw the curve. `topics`, `targets`, `values`, `span_labels`: the project's ids → names."""
    if len(examples) < MIN_ARTICLES:
        raise TooFew(f"Training needs at least {MIN_ARTICLES} reviewed articles; the project has {len(examples)}.")
    training, held_out = split(examples, seed)
    topic_ids = sorted(topics)
    sizes = [s for s in CURVE_SIZES if s < len(training)] + [len(training)]
    span_part = _SpanPart(training, held_out, span_labels or {})
    total = 2 + len(sizes) + len(targets) + span_part.steps
    done = 0

    def step():
        nonlocal done
        done += 1
        progress(done, total)

    progress(0, total)
    vectorizer = _vectorizer(len(training))
    X_train = vectorizer.fit_transform([e.text for e in training])
    X_test = vectorizer.transform([e.text for e in held_out])
    step()

    truth = _truth(held_out, topic_ids)
    curve = []
    topic_models = {}
    for size in sizes:
        # The curve's points reuse the vocabulary of the whole training share (fitted once).
        topic_models = _fit_topics(X_train[:size], training[:size], topic_ids)
        curve.append({"size": size, "f1": _micro_f1(truth, _topic_matrix(topic_models, X_test, topic_ids))})
        step()
    predicted = _topic_matrix(topic_models, X_test, topic_ids)
    topic_scores = []
    for column, topic_id in enumerate(topic_ids):
        row = _per_label(truth[:, column], predicted[:, column], [True], {True: topics[topic_id]})[0]
        row["trained"] = topic_id in topic_models
        topic_scores.append(row)

    stance_models, stance_scores = {}, []
    for target_id in sorted(targets):
        train_rows = [(i, e.stances[target_id]) for i, e in enumerate(training) if target_id in e.stances]
        test_rows = [(i, e.stances[target_id]) for i, e in enumerate(held_out) if target_id in e.stances]
        entry = {"target": targets[target_id], "train": len(train_rows), "test": len(test_rows), "labels": []}
        if len({v for _, v in train_rows}) >= 2:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=1000)
            model.fit(X_train[[i for i, _ in train_rows]], [v for _, v in train_rows])
            stance_models[target_id] = model
            if test_rows:
                y_pred = model.predict(X_test[[i for i, _ in test_rows]])
                labels = sorted({v for _, v in train_rows} | {v for _, v in test_rows})
                entry["labels"] = _per_label([v for _, v in test_rows], y_pred, labels, values)
        stance_scores.append(entry)
        step()
    # The topics' matrices let go before the spans' fits (their peaks apart).
    del X_train, X_test
    span_models, span_scores, span_curve = span_part.fit(step)
    curve = _with_spans(curve, span_curve)
    step()
    return Trained(
        bundle={"vectorizer": vectorizer, "topics": topic_models, "stances": stance_models, "threshold": THRESHOLD,
                "stance_threshold": STANCE_THRESHOLD, "spans": span_models},
        scores={"topics": topic_scores, "topics_micro_f1": _micro_f1(truth, predicted), "stance": stance_scores,
                **span_scores},
        curve=curve, train_count=len(training), test_count=len(held_out),
    )


@dataclass
class Prediction:
    topics: list[tuple[int, float]]  # (topic id, probability) at or over the threshold
    stances: list[tuple[int, int, float]]  # (target id, value id, probability) at or over the stance threshold
    # How sure the model is about its least sure decision (topic or stance): 0 a coin toss, 1 certain.
    margin: float | None


def predict(bundle: dict, text: str) -> Prediction:
    """Every decision the model makes about one text, from one vectorisation of it."""
    X = bundle["vectorizer"].transform([text])
    topics, stances, margins = [], [], []
    for topic_id, model in bundle["topics"].items():
        probability = min(1.0, max(0.0, float(model.predict_proba(X)[0, 1])))
        margins.append(abs(2 * probability - 1))
        if probability >= bundle["threshold"]:
            topics.append((topic_id, probability))
    for target_id, model in bundle.get("stances", {}).items():
        probabilities = model.predict_proba(X)[0]
        order = np.argsort(probabilities)[::-1]
        best = min(1.0, max(0.0, float(probabilities[order[0]])))
        margins.append(best - float(probabilities[order[1]]))
        if best >= bundle.get("stance_threshold", STANCE_THRESHOLD):
            stances.append((target_id, int(model.classes_[order[0]]), best))
    margin = min(1.0, max(0.0, min(margins))) if margins else None
    return Prediction(topics=topics, stances=stances, margin=margin)


class _SpanPart:
    """The span model's share of a training run: the sample, its curve points and its scores."""

    def __init__(self, training: list[Example], held_out: list[Example], labels: dict[int, str]):
        self.labels = labels
        self.label_ids = sorted(labels)
        self.training, self.held_out = training, held_out
        self.learnable = bool(labels) and any(e.spans for e in training)
        self.sizes = []
        if self.learnable:
            self.train_data = self._take(training, span_model.MAX_TRAIN_TOKENS)
            self.test_data = self._take(held_out, span_model.MAX_TEST_TOKENS, held_out=True)
            n = len(self.train_data)
            self.sizes = [s for s in CURVE_SIZES if s < n] + [n]

    @property
    def steps(self) -> int:
        return len(self.sizes)

    def _take(self, examples: list[Example], budget: int, held_out: bool = False) -> list:
        """The first examples' span data, in the split's order, until `budget` tokens (at least one)."""
        taken, used = [], 0
        for example in examples:
            data = span_model.article_data(example.text, example.language,
                                           [s for s in example.spans if s[0] in self.labels], held_out=held_out)
            if taken and used + data.tokens > budget:
                break
            taken.append(data)
            used += data.tokens
        return taken

    def fit(self, step) -> tuple[dict, dict, dict[int, float | None]]:
        """The CRFs fitted on the sample (the curve's points on its first articles), their scores,
        and the curve's span F1 per size. The sample's tokens are let go."""
        if not self.learnable:
            return {}, {"spans": [{"label": self.labels[i], "trained": False, "precision": 0.0, "recall": 0.0,
                                   "f1": 0.0, "support": 0, "unaligned": 0} for i in self.label_ids],
                        "spans_micro_f1": None}, {}
        train_data, test_data = self.train_data, self.test_data
        self.train_data = self.test_data = None
        curve = {}
        models, rows, micro = {}, [], None
        for size in self.sizes:
            models = span_model.fit(train_data[:size], self.label_ids)
            rows, micro = span_model.score(span_model.Tagger(models), test_data, self.label_ids, self.labels)
            curve[size] = micro
            step()
        sample = {
            "train_articles": len(train_data), "of_train": len(self.training),
            "test_articles": len(test_data), "of_test": len(self.held_out),
            "train_tokens": sum(d.tokens for d in train_data), "test_tokens": sum(d.tokens for d in test_data),
            "max_train_tokens": span_model.MAX_TRAIN_TOKENS,
        }
        return models, {"spans": rows, "spans_micro_f1": micro, "spans_sample": sample}, curve


def _with_spans(curve: list[dict], span_curve: dict[int, float | None]) -> list[dict]:
    """The topics' curve points with the spans' F1 at their sizes; a size only the spans have
    (their sample's) is a point with no topics' F1."""
    by_size = {point["size"]: point for point in curve}
    for size, f1 in span_curve.items():
        by_size.setdefault(size, {"size": size, "f1": None})["span_f1"] = f1
    return sorted(by_size.values(), key=lambda p: p["size"])


def predict_topics(bundle: dict, text: str) -> list[tuple[int, float]]:
    """The topics the model gives at least the threshold, with their probability."""
    return predict(bundle, text).topics


def predict_spans(bundle: dict, text: str, language: str) -> list[tuple[int, int, int, float]]:
    """(label id, start, end, score) of the spans the model finds; none from a model without spans."""
    models = bundle.get("spans")
    return span_model.predict(models, text, language) if models else []
