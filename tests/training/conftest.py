import random

import pytest

from annotator.labelling.models import Annotation, Stance
from tests.factories import ArticleFactory, UserFactory, make_project

# Made-up words no rule's keyword list holds: only a model that learned them from gold finds the topic.
KEYWORDS = {"Armenia": "vostrak", "Syria": "pelmador", "Ukraine": "quillane"}
FILLER = ("minister talks meeting officials said week report government statement capital region visit "
          "economy agreement press council members sources today plans").split()


def text_about(rng: random.Random, topic: str | None) -> str:
    words = [rng.choice(FILLER) for _ in range(40)]
    if topic is not None:
        for _ in range(2):
            words.insert(rng.randrange(len(words)), KEYWORDS[topic])
    return " ".join(words).capitalize() + "."


def make_gold(article, reviewer, topic_names, stance=None):
    """The article's reviewed gold annotation with these topics (and a stance toward the West)."""
    project = article.project
    gold = Annotation.objects.create(
        article=article, annotator=reviewer, kind=Annotation.Kind.GOLD, status=Annotation.Status.SUBMITTED
    )
    gold.topics.set(project.topics.filter(name__in=topic_names))
    if stance is not None:
        Stance.objects.create(annotation=gold, target=project.stance_targets.get(name="the West"),
                              value=project.stance_values.get(name=stance))
    return gold


def reviewed_corpus(project, reviewer, n: int, seed: int = 7) -> list:
    """`n` reviewed articles: each about one of three topics (named by its keyword) or none; the
    articles naming 'Syria's keyword are critical of the West, the others neutral."""
    rng = random.Random(seed)
    articles = []
    for i in range(n):
        topic = [*KEYWORDS, None][i % 4]
        article = ArticleFactory(project=project, text=text_about(rng, topic))
        make_gold(article, reviewer, [topic] if topic else [], stance="critical" if topic == "Syria" else "neutral")
        articles.append(article)
    return articles


@pytest.fixture(autouse=True)
def model_root(settings, tmp_path):
    settings.ANNOTATOR_MODEL_ROOT = tmp_path / "models"
    return settings.ANNOTATOR_MODEL_ROOT


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer")


@pytest.fixture
def project(analyst, admin_user, reviewer):
    return make_project(analyst=analyst, admin=admin_user, reviewer=reviewer)


def quoted_text(rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    """A paragraph or two of filler with two or three «…» quotations, and the quotations' offsets
    (the text inside the marks)."""
    parts, quotes, length = [], [], 0
    for _ in range(rng.randint(2, 3)):
        before = " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 8))).capitalize() + " «"
        inside = " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 7)))
        after = "» " + " ".join(rng.choice(FILLER) for _ in range(rng.randint(2, 6))) + ".\n"
        quotes.append((length + len(before), length + len(before) + len(inside)))
        parts += [before, inside, after]
        length += len(before) + len(inside) + len(after)
    return "".join(parts).rstrip("\n"), quotes


def quoted_corpus(project, reviewer, n: int, seed: int = 5) -> list:
    """`n` reviewed articles whose gold marks the text inside «…» as Quote: a pattern to learn."""
    from annotator.labelling.models import Span

    rng = random.Random(seed)
    quote = project.span_labels.get(name="Quote")
    articles = []
    for _ in range(n):
        text, quotes = quoted_text(rng)
        article = ArticleFactory(project=project, text=text)
        gold = make_gold(article, reviewer, [])
        Span.objects.bulk_create(Span(annotation=gold, label=quote, start=s, end=e, text=text[s:e]) for s, e in quotes)
        articles.append(article)
    return articles
