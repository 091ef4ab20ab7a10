import pytest


@pytest.fixture(autouse=True)
def snapshot_root(settings, tmp_path):
    """Every test writes its snapshots under its own folder, and builds them in the request
    that asks (the quick start's immediate backend) unless it starts a real worker itself."""
    settings.ANNOTATOR_SNAPSHOT_ROOT = tmp_path / "snapshots"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    return settings.ANNOTATOR_SNAPSHOT_ROOT


from tests.factories import ArticleFactory  # noqa: E402

from .helpers import SEEDS, add_span, annotate, link  # noqa: E402

ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"
FAMILY = "👩\u200d👩\u200d👧"
EMOJI_TEXT = f"{FAMILY} Lavrov said “NATO is expanding” 🇦🇲.\nq\u0307 مُحَمَّد replied."
TOPICS = ["Armenia", "Syria", "Ukraine", "Other"]


@pytest.fixture
def gold_corpus(project, admin_user):
    """Reviewed (gold) articles in English, Arabic and emoji, with an overlap and a span inside a word."""
    english = ArticleFactory(
        project=project, title="=HYPERLINK(\"http://x\")", text="Lavrov said “the West is trying”.\nThe ministry agreed.",
        source="+TASS", published="2024-03-01",
    )
    gold = annotate(english, admin_user, topics=["Armenia"], stances={"the West": "critical"}, gold=True, submit=False)
    quote = add_span(gold, admin_user, "Quote", "the West is trying", {"stance": "critical"})
    source = add_span(gold, admin_user, "Source", "Lavrov")
    link(project, "speaker", quote, source, actor=admin_user)
    add_span(gold, admin_user, "Claim", "trying”.\nThe ministry")  # longer than the Quote it overlaps
    from annotator.labelling import services

    services.annotation_submit(annotation=gold, actor=admin_user)

    arabic = ArticleFactory(project=project, title="Arabic", text=(SEEDS / "002_fbed2bf9dc136266.txt").read_text(encoding="utf-8"), language="ar", source="RT Arabic", published="2024-05-02")
    annotate(arabic, admin_user, [("Quote", ARABIC_QUOTE), ("Source", "سيرغي لافروف")], topics=["Syria"], gold=True)

    emoji = ArticleFactory(project=project, title="Emoji", text=EMOJI_TEXT, language="")
    annotate(emoji, admin_user, [("Source", FAMILY), ("Claim", "🇦🇲"), ("Claim", "q\u0307 مُحَمَّد"), ("Source", "avro")], gold=True)

    plain = []
    for n in range(12):
        article = ArticleFactory(project=project, text=f"Story {n}: Shoigu met Blinken in city number {n} to discuss grain.\nNo comment.", published=f"2024-01-{n + 1:02d}")
        annotate(article, admin_user, [("Source", "Shoigu"), ("Claim", "discuss grain")], topics=[TOPICS[n % 4]], gold=True)
        plain.append(article)
    # Not reviewed yet: never exported in the gold scope.
    pending = ArticleFactory(project=project, text="Pending gold is not exported.")
    annotate(pending, admin_user, [("Claim", "Pending gold")], gold=True, submit=False)
    return {"english": english, "arabic": arabic, "emoji": emoji, "plain": plain, "pending": pending}
