import gc
import json
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotator.datasets import records
from annotator.datasets.records import OffsetMismatch, article_records
from annotator.labelling import services
from annotator.labelling.models import Relation, Span
from annotator.projects.models import Membership, RelationType
from tests.factories import ArticleFactory, UserFactory, make_project

pytestmark = pytest.mark.django_db

ARABIC_SEED = Path(settings.BASE_DIR) / "fixtures" / "seeds" / "002_fbed2bf9dc136266.txt"
ARABIC_QUOTE = "الدول الغربية التي تتودد الآن إلى أرمينيا، تريد أن تتحالف معها ضد روسيا الاتحادية"
FAMILY = "👩\u200d👩\u200d👧"
EMOJI_TEXT = f"{FAMILY} Lavrov said “NATO is expanding” 🇦🇲.\nq\u0307 مُحَمَّد replied."


def span(article, user, label_name, phrase, attributes=None):
    label = article.project.span_labels.get(name=label_name)
    start = article.text.index(phrase)
    created = services.span_create(
        article=article, annotator=user, label=label, start=start, end=start + len(phrase), text=phrase,
        client_id=uuid.uuid4(),
    )
    if attributes:
        services.span_update(span=created, label=label, attributes=attributes)
        created.refresh_from_db()
    return created


def link(project, name, source, target):
    return services.relation_create(
        relation_type=RelationType.objects.get(project=project, name=name), source=source, target=target
    )


def label_document(article, user, topics=(), stances=None):
    project = article.project
    annotation = services.annotation_get_or_create(article=article, annotator=user)
    services.document_labels_set(
        annotation=annotation,
        topic_ids=[project.topics.get(name=t).id for t in topics],
        stances={
            project.stance_targets.get(name=t).id: project.stance_values.get(name=v).id
            for t, v in (stances or {}).items()
        },
    )
    return annotation


def download(client, project):
    response = client.get(reverse("export_jsonl", args=[project.id]))
    assert response.status_code == 200
    raw = b"".join(response.streaming_content)
    return response, raw


def lines(raw: bytes) -> list[dict]:
    text = raw.decode("utf-8")
    assert text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]


@pytest.fixture
def second_analyst(project):
    user = UserFactory(username="analyst2")
    Membership.objects.create(project=project, user=user, role=Membership.Role.ANALYST)
    return user


@pytest.fixture
def corpus(project, analyst, second_analyst):
    """Three articles (English, Arabic seed, emoji with combining marks), labelled by two analysts."""
    english = ArticleFactory(
        project=project, title="English", text="Lavrov said “the West is trying”.\nThe ministry agreed.",
        metadata={"feed": "tass", "tags": ["a", "b"]}, source="TASS", url="https://example.org/a",
    )
    arabic = ArticleFactory(project=project, title="Arabic", text=ARABIC_SEED.read_text(encoding="utf-8"),
                            language="ar")
    emoji = ArticleFactory(project=project, title="Emoji", text=EMOJI_TEXT)

    quote = span(english, analyst, "Quote", "the West is trying", {"speaker": "Lavrov", "stance": "critical"})
    source = span(english, analyst, "Source", "Lavrov")
    link(project, "speaker", quote, source)
    span(english, analyst, "Claim", "trying”.\nThe ministry")  # across the line break
    label_document(english, analyst, topics=["Armenia", "Other"], stances={"the West": "critical"})
    services.annotation_submit(annotation=quote.annotation)

    span(arabic, analyst, "Quote", ARABIC_QUOTE, {"target": "the West"})
    span(arabic, analyst, "Source", "سيرغي لافروف")

    span(emoji, analyst, "Source", FAMILY)
    span(emoji, analyst, "Claim", "🇦🇲")
    span(emoji, analyst, "Claim", "q\u0307 مُحَمَّد")

    theirs = span(english, second_analyst, "Claim", "The ministry agreed")
    label_document(english, second_analyst, topics=["Syria"], stances={"NATO": "neutral"})
    span(emoji, second_analyst, "Quote", "NATO is expanding")
    return {"english": english, "arabic": arabic, "emoji": emoji, "theirs": theirs}


class TestDownload:
    def test_headers_and_a_safe_filename(self, client, analyst):
        project = make_project(name='Ünïcode "quotes"/slash\r\nx', analyst=analyst)
        ArticleFactory(project=project)
        client.force_login(analyst)
        response, raw = download(client, project)

        assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
        disposition = response["Content-Disposition"]
        match = re.fullmatch(r'attachment; filename="([^"]*)"', disposition)
        assert match, disposition
        filename = match.group(1)
        assert filename.isascii()
        assert not set(filename) & set('"/\\\r\n;')
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.jsonl", filename)
        assert filename == f"unicode-quotesslash-x-{project.id}.jsonl"
        assert len(lines(raw)) == 1

    def test_name_with_nothing_ascii_still_gets_a_name(self, client, analyst):
        project = make_project(name="روسيا 👩", analyst=analyst)
        client.force_login(analyst)
        response, _ = download(client, project)
        assert response["Content-Disposition"] == f'attachment; filename="project-{project.id}.jsonl"'

    def test_one_line_per_article_with_the_article_fields(self, client, admin_user, corpus):
        client.force_login(admin_user)
        _, raw = download(client, corpus["english"].project)
        records = lines(raw)
        assert raw.count(b"\n") == 3
        assert [r["id"] for r in records] == [corpus[k].id for k in ("english", "arabic", "emoji")]
        english, arabic, emoji = records
        assert english["title"] == "English"
        assert english["text"] == corpus["english"].text
        assert english["metadata"] == {"feed": "tass", "tags": ["a", "b"]}
        assert (english["source"], english["url"], english["sha256"]) == (
            "TASS", "https://example.org/a", corpus["english"].sha256,
        )
        assert arabic["text"] == corpus["arabic"].text and arabic["language"] == "ar"
        assert emoji["text"] == EMOJI_TEXT
        # UTF-8, not \u escapes: a reader sees the Arabic as written.
        assert ARABIC_QUOTE.encode("utf-8") in raw

    def test_annotations_carry_spans_relations_topics_and_stance(self, client, analyst, corpus):
        client.force_login(analyst)
        english = lines(download(client, corpus["english"].project)[1])[0]

        [annotation] = english["annotations"]
        assert annotation["annotator"] == "analyst"
        assert annotation["status"] == "submitted"
        text = english["text"]
        spans = annotation["spans"]
        assert [(s["label"], s["text"]) for s in spans] == [
            ("Source", "Lavrov"), ("Quote", "the West is trying"), ("Claim", "trying”.\nThe ministry"),
        ]
        for s in spans:
            assert set(s) >= {"id", "start", "end", "label", "text", "attributes"}
            assert text[s["start"] : s["end"]] == s["text"]
        quote = spans[1]
        assert (quote["start"], quote["end"]) == (13, 31)
        # The speaker is the linked Source: the typed one went when the link was made.
        assert quote["attributes"] == {"stance": "critical"}
        assert spans[0]["attributes"] == {}
        [relation] = Relation.objects.filter(annotation__article_id=english["id"])
        assert annotation["relations"] == [
            {"id": relation.id, "type": "speaker", "source": quote["id"], "target": spans[0]["id"]}
        ]
        assert annotation["topics"] == ["Armenia", "Other"]
        assert annotation["stance"] == {"the West": "critical"}

    def test_offsets_select_the_span_text_in_every_script(self, client, admin_user, corpus):
        client.force_login(admin_user)
        records = lines(download(client, corpus["english"].project)[1])
        checked = 0
        for record in records:
            for annotation in record["annotations"]:
                for s in annotation["spans"]:
                    assert record["text"][s["start"] : s["end"]] == s["text"]
                    assert s["end"] - s["start"] == len(s["text"])
                    checked += 1
        assert checked == 10
        emoji = {s["text"]: (s["start"], s["end"]) for a in records[2]["annotations"] for s in a["spans"]}
        # Code points, not UTF-16 units or bytes: the family emoji is five, the flag two.
        assert emoji[FAMILY] == (0, 5)
        assert emoji["🇦🇲"] == (EMOJI_TEXT.index("🇦🇲"), EMOJI_TEXT.index("🇦🇲") + 2)
        assert emoji["NATO is expanding"][0] == 19
        arabic = {s["text"]: (s["start"], s["end"]) for s in records[1]["annotations"][0]["spans"]}
        start = corpus["arabic"].text.index(ARABIC_QUOTE)
        assert arabic[ARABIC_QUOTE] == (start, start + len(ARABIC_QUOTE))
        assert records[1]["annotations"][0]["spans"][1]["attributes"] == {"target": "the West"}

    def test_article_without_annotations_has_an_empty_list(self, client, analyst, project):
        ArticleFactory(project=project)
        client.force_login(analyst)
        [record] = lines(download(client, project)[1])
        assert record["annotations"] == []


class TestWhoSeesWhat:
    def test_analyst_gets_only_their_own_annotations(self, client, analyst, second_analyst, corpus):
        for user in (analyst, second_analyst):
            client.force_login(user)
            records = lines(download(client, corpus["english"].project)[1])
            assert len(records) == 3  # every article, whoever labelled it
            annotators = {a["annotator"] for r in records for a in r["annotations"]}
            assert annotators == {user.username}
        english = records[0]["annotations"]
        assert [s["text"] for s in english[0]["spans"]] == [corpus["theirs"].text]
        assert english[0]["topics"] == ["Syria"] and english[0]["stance"] == {"NATO": "neutral"}

    def test_admin_gets_everyones_annotations(self, client, admin_user, corpus):
        client.force_login(admin_user)
        records = lines(download(client, corpus["english"].project)[1])
        assert [[a["annotator"] for a in r["annotations"]] for r in records] == [
            ["analyst", "analyst2"], ["analyst"], ["analyst", "analyst2"],
        ]

    def test_reviewer_gets_everyones_annotations(self, client, project, corpus):
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        client.force_login(reviewer)
        records = lines(download(client, project)[1])
        assert {a["annotator"] for r in records for a in r["annotations"]} == {"analyst", "analyst2"}

    def test_non_member_gets_404(self, client, other_user, corpus):
        client.force_login(other_user)
        response = client.get(reverse("export_jsonl", args=[corpus["english"].project_id]))
        assert response.status_code == 404
        assert "Lavrov" not in response.content.decode()

    def test_member_of_another_project_gets_404(self, client, corpus):
        outsider = UserFactory(username="elsewhere")
        make_project(name="Theirs", admin=outsider)
        client.force_login(outsider)
        assert client.get(reverse("export_jsonl", args=[corpus["english"].project_id])).status_code == 404

    def test_anonymous_is_sent_to_log_in(self, client, project):
        response = client.get(reverse("export_jsonl", args=[project.id]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert client.get(reverse("export_jsonl", args=[project.id]), headers={"HX-Request": "true"}).status_code == 401

    def test_post_is_405(self, client, analyst, project):
        client.force_login(analyst)
        assert client.post(reverse("export_jsonl", args=[project.id])).status_code == 405


class TestRecords:
    def test_span_whose_offsets_no_longer_match_is_refused(self, project, corpus):
        # Shift both offsets: the length still matches the text, so the constraints hold.
        moved = Span.objects.filter(annotation__article=corpus["english"], text="Lavrov").update(
            start=F("start") + 1, end=F("end") + 1
        )
        assert moved == 1
        with pytest.raises(OffsetMismatch):
            list(article_records(project))

    def test_mismatch_is_found_for_the_annotator_alone_too(self, project, analyst, second_analyst, corpus):
        Span.objects.filter(pk=corpus["theirs"].pk).update(start=F("start") - 1, end=F("end") - 1)
        with pytest.raises(OffsetMismatch):
            list(article_records(project, annotator=second_analyst))
        assert len(list(article_records(project, annotator=analyst))) == 3

    def test_spans_in_text_order_longest_first_then_oldest_whatever_order_they_were_made(self, project, analyst):
        # The records sort each annotation's spans themselves (the query does not): made here
        # out of that order, so neither the table's nor an index's order gives it.
        article = ArticleFactory(project=project, text="Lavrov said the West is trying.")
        made = [
            span(article, analyst, "Claim", "the West"),
            span(article, analyst, "Claim", "Lavrov said"),
            span(article, analyst, "Source", "Lavrov"),
            span(article, analyst, "Quote", "Lavrov said the West"),
            span(article, analyst, "Claim", "Lavrov"),
        ]
        [record] = list(article_records(project))
        assert [(s["start"], s["end"], s["label"]) for s in record["annotations"][0]["spans"]] == [
            (0, 20, "Quote"), (0, 11, "Claim"), (0, 6, "Source"), (0, 6, "Claim"), (12, 20, "Claim"),
        ]
        assert [s["id"] for s in record["annotations"][0]["spans"]] == [made[i].id for i in (3, 1, 2, 4, 0)]

    def test_the_cycle_collector_is_off_while_a_chunk_is_made_and_as_it_was_after(self, project, corpus, monkeypatch):
        # A chunk's thousands of rows and span dicts hold no reference cycle: collecting while
        # they are made only walks them again (docs/performance.md, tenth session).
        enabled_while_sorting = []
        span_order = records._span_order
        monkeypatch.setattr(records, "_span_order", lambda s: enabled_while_sorting.append(gc.isenabled()) or span_order(s))
        assert gc.isenabled()
        assert len(list(article_records(project))) == 3
        assert enabled_while_sorting and not any(enabled_while_sorting)
        assert gc.isenabled()
        gc.disable()
        try:
            assert len(list(article_records(project))) == 3
            assert not gc.isenabled()  # a caller that turned it off keeps it off
        finally:
            gc.enable()

    def test_chunks_keep_each_articles_own_annotations(self, project, analyst, corpus):
        more = [ArticleFactory(project=project, text=f"Lavrov spoke on day {n}.") for n in range(4)]
        for article in more:
            span(article, analyst, "Source", "Lavrov")
        whole = list(article_records(project))
        chunked = list(article_records(project, chunk_size=2))
        assert chunked == whole
        assert len(whole) == 7
        for record in whole:
            for annotation in record["annotations"]:
                for s in annotation["spans"]:
                    assert record["text"][s["start"] : s["end"]] == s["text"]
        assert [len(r["annotations"]) for r in whole] == [2, 1, 2, 1, 1, 1, 1]


def populate(project, users, count):
    for n in range(count):
        article = ArticleFactory(project=project, text=f"Lavrov said “NATO is expanding” on day {n}.\nSecond line.")
        for user in users:
            quote = span(article, user, "Quote", "NATO is expanding", {"speaker": "Lavrov"})
            source = span(article, user, "Source", "Lavrov")
            link(project, "speaker", quote, source)
            label_document(article, user, topics=["Armenia", "Syria"], stances={"NATO": "critical"})


class TestQueryCount:
    def count_export_queries(self, client, project):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("export_jsonl", args=[project.id]))
            raw = b"".join(response.streaming_content)
        return len(queries), lines(raw)

    def test_export_queries_do_not_grow_with_the_articles(self, client, analyst, second_analyst, admin_user):
        small = make_project(name="Small", analyst=[analyst, second_analyst], admin=admin_user)
        large = make_project(name="Large", analyst=[analyst, second_analyst], admin=admin_user)
        populate(small, [analyst, second_analyst], 3)
        populate(large, [analyst, second_analyst], 30)
        client.force_login(admin_user)

        small_count, small_records = self.count_export_queries(client, small)
        large_count, large_records = self.count_export_queries(client, large)

        assert (len(small_records), len(large_records)) == (3, 30)
        assert all(len(r["annotations"]) == 2 and len(r["annotations"][0]["relations"]) == 1 for r in large_records)
        assert large_count == small_count
        assert small_count <= 12

    def test_records_query_count_is_flat(self, analyst, second_analyst, django_assert_max_num_queries):
        small = make_project(name="Small", analyst=[analyst, second_analyst])
        large = make_project(name="Large", analyst=[analyst, second_analyst])
        populate(small, [analyst, second_analyst], 3)
        populate(large, [analyst, second_analyst], 30)

        with CaptureQueriesContext(connection) as baseline:
            assert len(list(article_records(small))) == 3
        with django_assert_max_num_queries(len(baseline)):
            assert len(list(article_records(large))) == 30
        with django_assert_max_num_queries(len(baseline)):
            assert len(list(article_records(large, annotator=analyst))) == 30
