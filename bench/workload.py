"""A deterministic news-like workload: articles of about 4,000 characters (English with curly
quotes, some Arabic paragraphs, some emoji), 20 spans each, topics and stance, k analysts.

    python -m bench.workload --articles 1000 --analysts 2 --jsonl /tmp/workload.jsonl
    python -m bench.workload --articles 1000 --analysts 2 --database      # straight into the DB

The same arguments always give the same articles and spans.
"""

import argparse
import json
import random
import uuid
from collections.abc import Iterator

# Sentences are built from slots, so two articles share few word 5-grams (as two real stories
# do) and the near-duplicate detection has realistic work, not a corpus of copies.
SUBJECTS = ["The foreign minister", "A senior diplomat", "The defence ministry", "Officials in {city}",
            "The president's spokesman", "Lawmakers in {city}", "The agency", "A government source",
            "Opposition leaders", "The ambassador to {city}", "Military analysts", "The prime minister"]
VERBS = ["said on {day}", "told reporters in {city}", "wrote in a statement on {day}", "argued during a visit to {city}",
         "warned on {day}", "insisted in an interview", "claimed at a briefing in {city}", "added late on {day}"]
ACTORS = ["the West", "Washington", "NATO", "Brussels", "Moscow", "Tehran", "Ankara", "Baku", "Yerevan", "Damascus",
          "the European Union", "the United Nations"]
ACTIONS = ["undermine", "support", "isolate", "pressure", "reassure", "provoke", "court", "sanction", "arm", "mediate with"]
OBJECTS = ["its neighbours", "the talks", "the ceasefire", "regional partners", "the nuclear deal", "the new government",
           "local markets", "the peace plan", "energy exports", "the border region"]
TAILS = ["more than {n} people attended", "trade fell by {n} per cent", "{n} delegates signed the letter",
         "the vote is due in {n} days", "about {n} troops are involved", "prices rose {n} per cent"]
CITIES = ["Moscow", "Tehran", "Yerevan", "Baku", "Ankara", "Brussels", "Geneva", "Vienna", "Damascus", "Beirut",
          "Doha", "Cairo", "Kyiv", "Tbilisi", "Astana"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ARABIC = [
    "قال وزير الخارجية الروسي إن الدول الغربية “تتودد” إلى أرمينيا وتريد أن تتحالف معها ضد روسيا.",
    "وأضاف أن موسكو ليس لديها أي أحكام سلبية مسبقة ضد شركاء يريفان الخارجيين.",
    "وأكد المتحدث أن المحادثات ستستمر الأسبوع المقبل في {city_ar}.",
    "وقال مسؤولون إن أكثر من {n} شخصاً شاركوا في الاجتماع.",
]
CITIES_AR = ["موسكو", "طهران", "يريفان", "باكو", "أنقرة", "جنيف", "فيينا", "دمشق", "بيروت", "الدوحة"]


def english_sentence(rng: random.Random) -> str:
    fill = {"city": rng.choice(CITIES), "day": rng.choice(DAYS)}
    subject = rng.choice(SUBJECTS).format(**fill)
    verb = rng.choice(VERBS).format(**fill)
    claim = f"{rng.choice(ACTORS)} is trying to {rng.choice(ACTIONS)} {rng.choice(OBJECTS)}"
    tail = rng.choice(TAILS).format(n=rng.randint(2, 9000))
    return f"{subject} {verb} that “{claim}”, and {tail}."


def arabic_sentence(rng: random.Random) -> str:
    return rng.choice(ARABIC).format(city_ar=rng.choice(CITIES_AR), n=rng.randint(2, 900))


EMOJI = ["🇦🇲", "👩‍👩‍👧", "🔥", "📰", "🕊️"]
TOPICS = ["Armenia", "Syria", "Iran nuclear deal (JCPOA)", "Ukraine", "Israel–Palestine", "Other"]
STANCE_TARGETS = ["the West", "the United States", "NATO"]
STANCE_VALUES = ["supportive", "critical", "neutral"]
LABELS = ["Claim", "Quote", "Source"]
TARGET_LENGTH = 4000
SPANS_PER_ARTICLE = 20


def article_text(rng: random.Random, number: int) -> str:
    paragraphs = [f"Report {number}: talks continue {rng.choice(EMOJI)}"]
    length = len(paragraphs[0])
    while length < TARGET_LENGTH:
        make = arabic_sentence if rng.random() < 0.15 else english_sentence
        sentences = [make(rng) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.2:
            sentences.append(rng.choice(EMOJI))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        length += len(paragraph) + 1
    return "\n".join(paragraphs)


def spans_for(rng: random.Random, text: str, count: int = SPANS_PER_ARTICLE) -> list[dict]:
    """`count` spans on word boundaries, some nested or overlapping, offsets in code points."""
    words = [i for i, c in enumerate(text) if c != " " and (i == 0 or text[i - 1] in " \n")]
    spans = []
    while len(spans) < count:
        start = rng.choice(words)
        end = min(len(text), start + rng.randint(8, 120))
        while end < len(text) and text[end] not in " \n":
            end += 1
        chosen = text[start:end]
        if "\n" in chosen or not chosen.strip() or chosen != chosen.strip():
            continue
        spans.append({"start": start, "end": end, "label": rng.choice(LABELS), "text": chosen})
    return spans


def articles(n: int, analysts: int = 2, seed: int = 1) -> Iterator[dict]:
    for number in range(n):
        rng = random.Random(f"{seed}-{number}")
        text = article_text(rng, number)
        annotations = []
        for analyst in range(analysts):
            annotations.append(
                {
                    "annotator": f"bench-analyst-{analyst + 1}",
                    "spans": spans_for(rng, text),
                    "topics": sorted(rng.sample(TOPICS, rng.randint(1, 2))),
                    "stance": {rng.choice(STANCE_TARGETS): rng.choice(STANCE_VALUES)},
                }
            )
        yield {
            "title": f"Report {number}",
            "text": text,
            "source": rng.choice(["TASS", "RT", "Tasnim", "Al Marsad"]),
            "url": f"https://news.example/{number}",
            "published": f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "language": "en",
            "annotations": annotations,
        }


def load_into_database(project_name: str, n: int, analysts: int = 2, seed: int = 1, batch: int = 1000):
    """Bulk-load the workload into a fresh project (replacing one of the same name).

    Articles and annotations go in with `bulk_create` (their ids are needed); on PostgreSQL the
    spans, topics and stances, 40 rows an article, are streamed with COPY (2.4 times as fast as
    `bulk_create` for 300 articles; 100,000 articles, 4,000,000 spans, in 150 s). Other databases
    use `bulk_create` for everything. Each batch of articles is one transaction.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from annotator.corpus.models import Article
    from annotator.corpus.text import normalise, sha256
    from annotator.labelling.models import Annotation, Span, Stance
    from annotator.projects.models import Membership, Project
    from annotator.projects.services import project_create

    User = get_user_model()
    for old in Project.objects.filter(name=project_name):
        Annotation.objects.filter(article__project=old).delete()
        old.delete()
    project = project_create(name=project_name)
    users = []
    for i in range(analysts):
        user, _ = User.objects.get_or_create(username=f"bench-analyst-{i + 1}")
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
        users.append(user)
    labels = {label.name: label.id for label in project.span_labels.all()}
    topics = {topic.name: topic.id for topic in project.topics.all()}
    targets = {t.name: t.id for t in project.stance_targets.all()}
    values = {v.name: v.id for v in project.stance_values.all()}
    TopicLink = Annotation.topics.through
    use_copy = connection.vendor == "postgresql"

    generator = articles(n, analysts, seed)
    while True:
        chunk = [row for _, row in zip(range(batch), generator)]
        if not chunk:
            break
        with transaction.atomic():
            texts = [normalise(r["text"]) for r in chunk]
            created = Article.objects.bulk_create(
                Article(project=project, title=r["title"], text=text, sha256=sha256(text),
                        source=r["source"], url=r["url"], published=r["published"], language=r["language"])
                for r, text in zip(chunk, texts)
            )
            annotations = Annotation.objects.bulk_create(
                Annotation(article=article, annotator=users[i], status=Annotation.Status.SUBMITTED)
                for article, r in zip(created, chunk) for i in range(len(r["annotations"]))
            )
            pairs = list(zip((a.id for a in annotations), (a for r in chunk for a in r["annotations"])))
            spans = ((id_, labels[s["label"]], s["start"], s["end"], s["text"]) for id_, a in pairs for s in a["spans"])
            links = ((id_, topics[t]) for id_, a in pairs for t in a["topics"])
            stances = ((id_, targets[t], values[v]) for id_, a in pairs for t, v in a["stance"].items())
            if use_copy:
                now = timezone.now()
                _copy(Span, ["annotation", "label", "start", "end", "text", "attributes", "client_id", "created_at", "updated_at"],
                      ((*span, "{}", uuid.uuid4(), now, now) for span in spans))
                _copy(TopicLink, ["annotation", "topic"], links)
                _copy(Stance, ["annotation", "target", "value"], stances)
            else:
                Span.objects.bulk_create(
                    Span(annotation_id=a, label_id=label, start=start, end=end, text=text)
                    for a, label, start, end, text in spans
                )
                TopicLink.objects.bulk_create(TopicLink(annotation_id=a, topic_id=t) for a, t in links)
                Stance.objects.bulk_create(Stance(annotation_id=a, target_id=t, value_id=v) for a, t, v in stances)
    return project


def _copy(model, fields: list[str], rows) -> None:
    """Stream rows into the model's table with PostgreSQL's COPY (values in `fields` order)."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--analysts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jsonl", help="write import rows (articles only) to this file")
    parser.add_argument("--database", action="store_true", help="bulk-load into the benchmark database")
    args = parser.parse_args()
    if args.jsonl:
        with open(args.jsonl, "w", encoding="utf-8") as out:
            for row in articles(args.articles, args.analysts, args.seed):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.database:
        from bench.common import Timer, setup_django

        setup_django()
        from annotator.labelling.models import Annotation, Span

        with Timer() as timer:
            project = load_into_database(f"bench-{args.articles}", args.articles, args.analysts, args.seed)
        annotations = Annotation.objects.filter(article__project=project)
        spans = Span.objects.filter(annotation__article__project=project)
        print(f"loaded project {project.id} in {timer.seconds:.0f} s: {project.articles.count()} articles, "
              f"{annotations.count()} annotations, {spans.count()} spans")


if __name__ == "__main__":
    main()
