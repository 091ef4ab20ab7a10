"""A span edge never falls inside an extended grapheme cluster, whichever way the span comes in.

One function (`corpus.text.cluster_around`) decides; the labelling page, the review page, the
annotation import and the Django admin all refuse a span that would split a cluster, naming the
offset. The clusters: a ZWJ family, flags (regional indicator pairs), a skin tone, a letter with
two combining marks, Arabic letters with harakat.
"""

import json
import uuid

import pytest
import regex
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.corpus.text import cluster_around, normalise
from annotator.datasets.imports import ImportFailed, doccano_import, snapshot_jsonl_import
from annotator.labelling import services
from annotator.labelling.models import Annotation, Span
from annotator.projects.models import Membership
from tests.factories import ArticleFactory, UserFactory

FAMILY = "👨\u200d👩\u200d👧"
FLAGS = "🇫🇷🇩🇪"
THUMB = "👍🏽"
COMBINING = normalise("q\u0307\u0323")  # q, dot above, dot below: no precomposed form, NFC keeps three
ARABIC = normalise("مُحَمَّد")  # NFC puts fatha before shadda
TEXT = normalise(f"The {FAMILY} family, {FLAGS} flags, {THUMB} thumb, {COMBINING} letter.\nقال {ARABIC} اليوم.")


def inside(cluster: str) -> list[int]:
    """Every offset strictly inside the cluster as it sits in TEXT (ZWJ family, flags: each flag)."""
    start = TEXT.index(cluster)
    return list(range(start + 1, start + len(cluster)))


def split_cases():
    """(case, start, end): spans with an edge inside a cluster, from either side."""
    family, flags, thumb = TEXT.index(FAMILY), TEXT.index(FLAGS), TEXT.index(THUMB)
    letter, arabic = TEXT.index(COMBINING), TEXT.index(ARABIC)
    return [
        ("half-the-family", family, family + 2),  # 👨 and its joiner
        ("family-without-the-man", family + 2, family + len(FAMILY)),
        ("one-regional-indicator", flags, flags + 1),
        ("between-two-flags-halves", flags + 1, flags + 3),
        ("thumb-without-its-tone", thumb, thumb + 1),
        ("letter-without-its-marks", letter, letter + 1),
        ("arabic-letter-without-its-harakat", arabic, arabic + 1),
        ("ending-between-shadda-and-fatha", arabic + 3, arabic + 5),
    ]


CASES = split_cases()
IDS = [case[0] for case in CASES]


class TestClusterAround:
    @pytest.mark.parametrize("cluster", [FAMILY, THUMB, COMBINING])
    def test_every_offset_inside_a_cluster_names_the_cluster(self, cluster):
        start = TEXT.index(cluster)
        for offset in inside(cluster):
            assert cluster_around(TEXT, offset) == (start, start + len(cluster))
        assert cluster_around(TEXT, start) is None
        assert cluster_around(TEXT, start + len(cluster)) is None

    def test_flags_pair_their_regional_indicators(self):
        start = TEXT.index(FLAGS)
        assert cluster_around(TEXT, start + 1) == (start, start + 2)
        assert cluster_around(TEXT, start + 2) is None  # between 🇫🇷 and 🇩🇪
        assert cluster_around(TEXT, start + 3) == (start + 2, start + 4)

    def test_arabic_harakat_belong_to_their_letter(self):
        start = TEXT.index(ARABIC)
        # م ُ ح َ م ّ َ د: a letter, then its marks.
        clusters = [(start, start + 2), (start + 2, start + 4), (start + 4, start + 7), (start + 7, start + 8)]
        for offset in range(start, start + len(ARABIC) + 1):
            expected = next(((a, b) for a, b in clusters if a < offset < b), None)
            assert cluster_around(TEXT, offset) == expected, offset

    def test_text_ends_and_line_breaks_are_boundaries(self):
        assert cluster_around(TEXT, 0) is None
        assert cluster_around(TEXT, len(TEXT)) is None
        assert cluster_around(TEXT, TEXT.index("\n")) is None
        assert cluster_around(TEXT, TEXT.index("\n") + 1) is None

    def test_a_long_run_of_flags_pairs_from_the_line_start(self):
        # Pairing depends on how many indicators came before: an odd offset is inside a flag.
        flags = "🇫🇷" * 40
        text = "x\n" + flags
        assert cluster_around(text, 2 + 41) == (2 + 40, 2 + 42)
        assert cluster_around(text, 2 + 42) is None


# Characters that make clusters, and plain ones and line breaks between them.
PIECES = ["a", " ", "\n", "~", "q", "\u0307", "\u0323", "\u200d", "👨", "👩", "👧", "🏽", "👍", "🇫", "🇷", "\ufe0f",
          "م", "\u064e", "\u0651", "क", "\u094d", "\u093e", "\u0600", "한", "\u1100", "\u1161", "\r", "#", "\u20e3"]


def brute_force(text: str, offset: int) -> tuple[int, int] | None:
    """The cluster around `offset` from segmenting the whole text, as a slow reference."""
    for cluster in regex.finditer(r"\X", text):
        if cluster.start() < offset < cluster.end():
            return cluster.span()
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_the_local_search_agrees_with_segmenting_the_whole_text(pieces):
    text = "".join(pieces)
    for offset in range(len(text) + 1):
        assert cluster_around(text, offset) == brute_force(text, offset), (text, offset)


@pytest.fixture
def article(project):
    return ArticleFactory(project=project, text=TEXT)


def posted(start, end, label, **extra):
    return {"label": label.id, "start": start, "end": end, "text": TEXT[start:end], "client_id": str(uuid.uuid4()),
            **extra}


class TestLabellingPage:
    @pytest.mark.parametrize(("name", "start", "end"), CASES, ids=IDS)
    def test_a_split_cluster_is_refused_naming_the_offset(self, client, analyst, project, article, name, start, end):
        client.force_login(analyst)
        response = client.post(
            reverse("span_create", args=[project.id, article.id]),
            posted(start, end, project.span_labels.get(name="Quote")), HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 422
        body = response.content.decode()
        edge = start if cluster_around(TEXT, start) else end
        assert f"at offset {edge}, inside the character" in body
        assert Span.objects.count() == 0

    @pytest.mark.parametrize("cluster", [FAMILY, FLAGS, THUMB, COMBINING, ARABIC])
    def test_whole_clusters_are_saved(self, client, analyst, project, article, cluster):
        client.force_login(analyst)
        start = TEXT.index(cluster)
        response = client.post(
            reverse("span_create", args=[project.id, article.id]),
            posted(start, start + len(cluster), project.span_labels.get(name="Quote")), HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 201
        assert Span.objects.get().text == cluster


class TestReviewPage:
    @pytest.mark.parametrize(("name", "start", "end"), CASES, ids=IDS)
    def test_a_gold_span_splitting_a_cluster_is_refused(self, client, project, article, name, start, end):
        reviewer = UserFactory(username="reviewer")
        Membership.objects.create(project=project, user=reviewer, role=Membership.Role.REVIEWER)
        client.force_login(reviewer)

        response = client.post(
            reverse("review_span_add", args=[project.id, article.id]),
            posted(start, end, project.span_labels.get(name="Claim"), version=0), HTTP_HX_REQUEST="true",
        )

        assert response.status_code == 422
        assert "inside the character" in response.content.decode()
        assert not Annotation.objects.filter(kind=Annotation.Kind.GOLD, spans__isnull=False).exists()
        assert Span.objects.count() == 0


class TestImport:
    @pytest.mark.parametrize(("name", "start", "end"), CASES, ids=IDS)
    def test_a_jsonl_span_splitting_a_cluster_is_a_problem_at_its_line(self, project, analyst, name, start, end):
        record = {"text": TEXT, "annotations": [{"annotator": "analyst", "kind": "analyst", "spans": [
            {"id": 1, "start": start, "end": end, "label": "Quote", "text": TEXT[start:end]}]}]}

        with pytest.raises(ImportFailed) as failed:
            snapshot_jsonl_import(project=project, data=(json.dumps(record) + "\n").encode())

        [problem] = failed.value.problems
        assert problem.startswith("line 1: ")
        assert "inside the character" in problem
        assert Span.objects.count() == 0

    def test_a_doccano_span_splitting_the_family_is_refused(self, project, admin_user):
        start = TEXT.index(FAMILY)
        row = {"text": TEXT, "label": [[start, start + 1, "Quote"]]}

        with pytest.raises(ImportFailed) as failed:
            doccano_import(project=project, data=json.dumps(row).encode(), gold_by=admin_user)

        assert failed.value.problems == [
            f"line 1: The span [{start}, {start + 1}) ends at offset {start + 1}, inside the character “{FAMILY}” "
            f"(offsets {start} to {start + len(FAMILY)}), which would split it. Select whole characters."
        ]

    def test_whole_clusters_import(self, project, admin_user):
        spans = [[TEXT.index(c), TEXT.index(c) + len(c), "Quote"] for c in (FAMILY, FLAGS, ARABIC)]

        doccano_import(project=project, data=json.dumps({"text": TEXT, "label": spans}).encode(), gold_by=admin_user)

        assert sorted(Span.objects.values_list("text", flat=True)) == sorted([FAMILY, FLAGS, ARABIC])


class TestAdmin:
    @pytest.fixture
    def staff(self, client, db):
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        return client

    @pytest.mark.parametrize(("name", "start", "end"), CASES, ids=IDS)
    def test_adding_a_span_splitting_a_cluster_is_refused(self, staff, project, article, analyst, name, start, end):
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        response = staff.post(reverse("admin:labelling_span_add"), {
            "annotation": annotation.pk, "label": project.span_labels.get(name="Quote").pk, "start": start,
            "end": end, "text": TEXT[start:end], "attributes": "{}", "client_id": str(uuid.uuid4()),
        })

        assert response.status_code == 200
        assert "which would split it" in response.content.decode()
        assert Span.objects.count() == 0

    def test_a_whole_cluster_is_saved(self, staff, project, article, analyst):
        annotation = Annotation.objects.create(article=article, annotator=analyst)
        start = TEXT.index(FAMILY)
        response = staff.post(reverse("admin:labelling_span_add"), {
            "annotation": annotation.pk, "label": project.span_labels.get(name="Quote").pk, "start": start,
            "end": start + len(FAMILY), "text": FAMILY, "attributes": "{}", "client_id": str(uuid.uuid4()),
        })

        assert response.status_code == 302
        assert Span.objects.get().text == FAMILY


def test_the_service_refuses_before_anything_is_written(project, article, analyst):
    start = TEXT.index(THUMB)
    with pytest.raises(services.ValidationError) as refused:
        services.span_create(
            article=article, annotator=analyst, label=project.span_labels.get(name="Quote"), start=start,
            end=start + 1, text=TEXT[start:start + 1], client_id=uuid.uuid4(),
        )
    assert refused.value.code == "splits_cluster"
    assert not Annotation.objects.exists()
