"""An article's near-duplicate sketch is kept from one snapshot's select for the next
(`datasets.kept_sketches`): the next one reads it instead of sketching the text again, and groups
(and so splits) the same; a sketch of another version is made again; a cache that cannot be
written fails nothing."""

import hashlib

import numpy as np
import pytest
from django.db import DatabaseError

from annotator.datasets import splits
from annotator.datasets.models import ArticleSketch
from annotator.datasets.splits import SKETCH_VERSION, NearDuplicates, article_sketches, joined, sketches

from .helpers import SEEDS, annotate, article, build, file_path
from .test_splits import TOPICS, edited, excerpt

STORIES = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def test_the_version_names_the_sketches_a_text_gets():
    # Fails when `sketches` gives other values for the same text: then kept sketches are stale,
    # and SKETCH_VERSION must change with this digest.
    signature, samples = sketches([STORIES[0]])
    digest = hashlib.sha256(signature.tobytes() + samples.tobytes()).hexdigest()
    assert (SKETCH_VERSION, digest[:16]) == ("minhash-128-5-3-1", "be8a1c0c46965bad")


def test_sketches_cut_per_article_and_joined_again_are_those_of_the_texts_together():
    texts = [*STORIES, "", "three short words", edited(STORIES[1], 7), excerpt(STORIES[2])]
    signatures, samples = sketches(texts)
    each = article_sketches(signatures, samples)
    assert [sketch[: splits.NUM_PERM * 8] for sketch in each] == [row.tobytes() for row in signatures]
    again, again_samples = joined(each)
    assert np.array_equal(again, signatures)
    assert np.array_equal(np.sort(again_samples), np.sort(samples))
    # and any run of them is the sketches of those texts alone
    part, part_samples = joined(each[2:5])
    alone, alone_samples = sketches(texts[2:5])
    assert np.array_equal(part, alone) and np.array_equal(np.sort(part_samples), np.sort(alone_samples))


def test_near_duplicates_given_kept_sketches_group_as_from_the_texts(monkeypatch):
    monkeypatch.setattr(NearDuplicates, "BATCH_TEXTS", 3)
    texts = dict(enumerate(STORIES, start=1))
    texts.update({10: edited(STORIES[0], 3), 11: excerpt(STORIES[1]), 12: edited(STORIES[2], 11)})
    texts.update({i: f"Report {i}: the ministry met envoys from city {i} about item {i * 7}." for i in range(20, 30)})

    def load(ids):
        return {i: texts[i] for i in ids}

    with NearDuplicates(0.8, keep=True) as near:
        for i, text in texts.items():
            near.add(i, text)
        made = dict(near.made())
        expected = near.groups(load)
    assert set(made) == set(texts) and expected == [[1, 10], [2, 11], [3, 12]]
    # Every other article given its kept sketch (a text that would group nothing, were it read):
    # the same groups, and only the others made.
    with NearDuplicates(0.8, keep=True) as near:
        for n, (i, text) in enumerate(texts.items()):
            near.add(i, "unrelated words" if n % 2 else text, made[i] if n % 2 else None)
        again = near.made()
        assert near.groups(load) == expected
    assert again == [(i, made[i]) for n, i in enumerate(texts) if not n % 2]
    with NearDuplicates(0.8) as near:  # one that keeps nothing still takes the sketches given
        for n, (i, text) in enumerate(texts.items()):
            near.add(i, "unrelated words" if n % 2 else text, made[i] if n % 2 else None)
        assert near.made() == []
        assert near.groups(load) == expected


@pytest.mark.django_db
class TestSnapshots:
    @pytest.fixture
    def corpus(self, project, admin_user):
        made = [article(project, f"Report {n}: the ministry met envoys from city {n} about item {n * 7}.") for n in range(12)]
        pairs = [(article(project, story), article(project, excerpt(story))) for story in STORIES[:3]]
        copies = [article(project, STORIES[3]), article(project, edited(STORIES[3], 9))]
        for i, item in enumerate([*made, *(a for pair in pairs for a in pair), *copies]):
            annotate(item, admin_user, [], topics=[TOPICS[i % 4]], gold=True)
        return project

    @staticmethod
    def files(snapshot):
        return {f.name: file_path(snapshot, f.name).read_bytes() for f in snapshot.files.all() if f.name != "README.md"}

    def test_the_next_snapshot_reads_the_kept_sketches_and_splits_the_same(self, corpus, admin_user, monkeypatch):
        first = build(corpus, admin_user, formats=["jsonl"])
        assert first.status == "ready", first.error
        assert len(first.counts["near_duplicates"]["groups"]) == 4
        kept = dict(ArticleSketch.objects.values_list("article_id", "version"))
        assert kept == dict.fromkeys(corpus.articles.values_list("id", flat=True), SKETCH_VERSION)

        def never(texts):
            raise AssertionError("sketched again")

        monkeypatch.setattr(splits, "sketches", never)
        second = build(corpus, admin_user, formats=["jsonl"])
        assert second.status == "ready", second.error
        assert second.counts["near_duplicates"] == first.counts["near_duplicates"]
        assert self.files(second) == self.files(first)

    def test_sketches_of_another_version_are_made_again_and_replace_them(self, corpus, admin_user):
        first = build(corpus, admin_user, formats=["jsonl"])
        kept = {row.article_id: bytes(row.sketch) for row in ArticleSketch.objects.all()}
        # Sketches of another version that, were they read, would find no near-duplicate at all.
        stale = list(ArticleSketch.objects.all())
        for row in stale:
            row.version, row.sketch = "minhash-old", hashlib.sha512(str(row.article_id).encode()).digest() * 16
        ArticleSketch.objects.bulk_update(stale, ["version", "sketch"])
        second = build(corpus, admin_user, formats=["jsonl"])
        assert second.counts["near_duplicates"] == first.counts["near_duplicates"]
        assert {row.article_id: (row.version, bytes(row.sketch)) for row in ArticleSketch.objects.all()} == {
            article_id: (SKETCH_VERSION, sketch) for article_id, sketch in kept.items()
        }

    def test_a_snapshot_whose_sketches_cannot_be_kept_is_made_all_the_same(self, corpus, admin_user, monkeypatch, caplog):
        def fails(*args, **kwargs):
            raise DatabaseError("disk full")

        from annotator import bulk

        monkeypatch.setattr(bulk, "insert", fails)
        caplog.set_level("INFO", "annotator.bulk")
        snapshot = build(corpus, admin_user, formats=["jsonl"])
        assert snapshot.status == "ready", snapshot.error
        assert not ArticleSketch.objects.exists()
        assert f"Could not keep the sketches of {corpus.articles.count()} articles" in caplog.text

    def test_an_article_deleted_takes_its_kept_sketch_with_it(self, corpus, admin_user):
        build(corpus, admin_user, formats=["jsonl"])
        item = corpus.articles.first()
        item.delete()
        assert not ArticleSketch.objects.filter(article_id=item.id).exists()
        assert ArticleSketch.objects.count() == corpus.articles.count()
