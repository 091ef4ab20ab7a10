import json
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.datasets.splits import (
    SPLITS, NearDuplicates, Unit, Units, assign, bands_for, containment, jaccard, near_duplicates, primary_topic, shingles,
)
from annotator.corpus.text import sha256

from .helpers import SEEDS, annotate, article, build, split_files

RATIOS = {"train": 80, "validation": 10, "test": 10}
TOPICS = ["Armenia", "Syria", "Ukraine", "Other"]


def units(n, topics=TOPICS):
    return Units.of(unit_list(n, topics))


def unit_list(n, topics=TOPICS):
    return [Unit(i, sha256(f"article {i}"), topics[i % len(topics)] if topics else "") for i in range(1, n + 1)]


class TestAssign:
    def test_same_inputs_same_splits_whatever_the_order(self):
        first = assign(units(200), [], RATIOS, seed=7, topic_order=TOPICS).as_dict()
        shuffled = unit_list(200)
        random.Random(1).shuffle(shuffled)
        assert assign(Units.of(shuffled), [], RATIOS, seed=7, topic_order=TOPICS).as_dict() == first
        other_seed = assign(units(200), [], RATIOS, seed=8, topic_order=TOPICS).as_dict()
        assert other_seed != first
        assert Counter(other_seed.values()) == Counter(first.values())

    @pytest.mark.parametrize("n", [10, 37, 200, 1001])
    @pytest.mark.parametrize("ratios", [RATIOS, {"train": 70, "validation": 15, "test": 15}, {"train": 100, "validation": 0, "test": 0}])
    def test_ratios_within_one_article(self, n, ratios):
        split_of = assign(units(n), [], ratios, seed=3, topic_order=TOPICS).as_dict()
        counts = Counter(split_of.values())
        assert len(split_of) == n
        for split in SPLITS:
            assert abs(counts[split] - ratios[split] * n / 100) <= 1, (split, counts)
            if ratios[split] == 0:
                assert counts[split] == 0

    def test_every_topic_is_spread_in_proportion(self):
        many = unit_list(400)
        split_of = assign(Units.of(many), [], RATIOS, seed=5, topic_order=TOPICS).as_dict()
        for topic in TOPICS:
            counts = Counter(split_of[u.article_id] for u in many if u.primary_topic == topic)
            assert sum(counts.values()) == 100
            assert counts["train"] in (79, 80, 81) and counts["validation"] in (9, 10, 11) and counts["test"] in (9, 10, 11), (topic, counts)

    def test_units_gathered_from_parts_split_as_one_table(self):
        # Each part meets the topics in another order: a topic's index differs from part to part.
        whole = unit_list(120)
        parts = [Units.of(whole[:7]), Units.of(reversed(whole[7:50])), Units.of([]), Units.of(whole[50:])]
        gathered = Units()
        for part in parts:
            gathered.extend(part)
        assert len(gathered) == len(whole)
        expected = assign(Units.of(whole), [[3, 60]], RATIOS, seed=2, topic_order=TOPICS).as_dict()
        assert assign(gathered, [[3, 60]], RATIOS, seed=2, topic_order=TOPICS).as_dict() == expected

    def test_groups_are_never_split_and_count_toward_the_ratios(self):
        many = units(300)
        groups = [[1, 2, 3], [10, 20], [100, 101, 102, 103]]
        result = assign(many, groups, RATIOS, seed=11, topic_order=TOPICS)
        for group in groups:
            assert len({result.split_of(i) for i in group}) == 1
        assert result.groups == groups
        counts = Counter(result.as_dict().values())
        assert abs(counts["train"] - 240) <= 4

    def test_the_splits_of_many_articles_at_once_are_each_ones_split(self):
        result = assign(units(300), [[1, 2, 3]], RATIOS, seed=11, topic_order=TOPICS)
        order = [250, 2, 1, 300, 77, 3, 77]  # the order a spool holds them in, not sorted
        assert result.splits_of(order) == [result.split_of(i) for i in order]
        assert set(result.splits_of(range(1, 301))) == set(SPLITS) and result.splits_of([]) == []
        for missing in ([0], [301], [5, 1000]):  # an article that was not split is a bug, never a quiet None
            with pytest.raises(ValueError):
                result.splits_of(missing)

    def test_primary_topic_is_the_majority_then_the_schema_order(self):
        assert primary_topic([["Syria"], ["Syria", "Armenia"], ["Armenia", "Syria"]], TOPICS) == "Syria"
        assert primary_topic([["Ukraine"], ["Syria"]], TOPICS) == "Syria"
        assert primary_topic([[], []], TOPICS) == ""


def edited(text, n):
    """The same story lightly edited: a word changed every so often."""
    words = text.split(" ")
    for i in range(n, len(words), 150):
        words[i] = words[i].upper() + "x"
    return " ".join(words)


def excerpt(text, jaccard_target=0.12, contained=0.8, at=1 / 3):
    """A passage of the story with new words after it: `contained` of its 5-grams are the story's,
    and its Jaccard similarity to the story is about `jaccard_target` (the issue's 0.8 and 0.12)."""
    from annotator.datasets.splits import _WORD

    words = _WORD.findall(text)
    whole = len(shingles(text))
    inside = round(jaccard_target * whole / (1 - jaccard_target * (1 - contained) / contained))  # 5-grams from the story
    start = int(len(words) * at)
    passage = words[start : start + inside + 4]
    new = int(len(shingles(" ".join(passage))) * (1 - contained) / contained)  # one new 5-gram a new word
    salt = sha256(f"{at} {text}")[:6]  # new words of its own: two excerpts share none
    return " ".join(passage + [f"qz{salt}{k}" for k in range(new)])


class TestNearDuplicates:
    def test_light_edits_are_grouped_and_different_stories_are_not(self, monkeypatch):
        texts = {}
        for i, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1):
            texts[i] = path.read_text(encoding="utf-8")
        texts[10] = edited(texts[1], 3)
        texts[11] = edited(texts[1], 17)
        texts[12] = texts[2].replace("\n", " \n")  # whitespace only
        texts.update({i: f"Report {i}: the ministry met envoys from city {i} about item {i * 7}." for i in range(20, 40)})
        texts[40] = texts[25] + " Updated."
        # Small batches: the file's rows must still follow the articles' order.
        monkeypatch.setattr(NearDuplicates, "BATCH_TEXTS", 3)
        with NearDuplicates(0.8) as near:
            for i, text in sorted(texts.items()):
                near.add(i, text)
            groups = near.groups(lambda ids: {i: texts[i] for i in ids})
        assert groups == [[1, 10, 11], [2, 12], [25, 40]]
        assert jaccard(shingles(texts[1]), shingles(texts[10])) >= 0.8
        assert jaccard(shingles(texts[1]), shingles(texts[3])) < 0.2

    def test_candidates_whose_signatures_disagree_are_never_read(self, monkeypatch):
        # Band keys of unrelated articles collide now and then (and often in a corpus of 100k
        # articles with common phrases): such a pair must be dropped on its signatures alone.
        texts = {i: path.read_text(encoding="utf-8") for i, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1)}
        texts[10] = edited(texts[1], 3)
        read = []

        def load(ids):
            read.extend(ids)
            return {i: texts[i] for i in ids}

        with NearDuplicates(0.8) as near:
            for i, text in sorted(texts.items()):
                near.add(i, text)
            position = {article_id: p for p, article_id in enumerate(sorted(texts))}
            every_pair = [position[a] << 32 | position[b] for a in texts for b in texts if a < b]
            monkeypatch.setattr(near, "_candidates", lambda: np.array(every_pair, dtype=np.int64))
            assert near.groups(load) == [[1, 10]]
        assert sorted(read) == [1, 10]

    @pytest.mark.parametrize("passes", [1, 3])
    def test_excerpts_are_grouped_with_their_story(self, monkeypatch, passes):
        stories = {i: path.read_text(encoding="utf-8") for i, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1)}
        texts = dict(stories)
        for i, story in stories.items():
            texts[10 + i] = excerpt(story)
            # As the issue found them: most of the excerpt is the story's, and MinHash cannot see it.
            assert containment(shingles(texts[10 + i]), shingles(story)) >= 0.8
            assert jaccard(shingles(texts[10 + i]), shingles(story)) < 0.15
        texts[20] = excerpt(stories[1], contained=0.6, at=0.6)  # too many new words: not an excerpt
        texts.update({i: f"Report {i}: the ministry met envoys from city {i} about item {i * 7}." for i in range(30, 40)})
        if passes > 1:  # the samples read in several ranges of their hash, as a large corpus reads them
            samples = sum(len(set(shingles(t))) for t in texts.values()) // 8
            monkeypatch.setattr(NearDuplicates, "READ_SAMPLES", samples // passes + 1)
        monkeypatch.setattr(NearDuplicates, "BATCH_TEXTS", 4)
        with NearDuplicates(0.8) as near:
            for i, text in sorted(texts.items()):
                near.add(i, text)
            groups = near.groups(lambda ids: {i: texts[i] for i in ids})
        assert groups == [[i, 10 + i] for i in sorted(stories)]

    def test_articles_sketched_apart_and_taken_group_as_if_added_together(self, monkeypatch):
        # A snapshot's shards sketch their articles apart; the last one selected takes them all.
        stories = {i: path.read_text(encoding="utf-8") for i, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1)}
        texts = dict(stories)
        texts.update({10 + i: edited(story, 3) for i, story in stories.items()})
        texts.update({20 + i: excerpt(story) for i, story in stories.items()})
        texts.update({i: f"Report {i}: the ministry met envoys from city {i} about item {i * 7}." for i in range(30, 40)})
        monkeypatch.setattr(NearDuplicates, "BATCH_TEXTS", 3)
        ids = sorted(texts)
        with NearDuplicates(0.8) as near:
            for i in ids:
                near.add(i, texts[i])
            together = near.groups(lambda wanted: {i: texts[i] for i in wanted})
        assert len(together) == len(stories)
        with NearDuplicates(0.8) as near:
            for part in (ids[:4], ids[4:5], ids[5:17], [], ids[17:]):
                with NearDuplicates(0.8) as shard:
                    for i in part:
                        shard.add(i, texts[i])
                    near.take(*shard.sketched())
            assert near.groups(lambda wanted: {i: texts[i] for i in wanted}) == together

    def test_a_short_passage_in_two_stories_does_not_join_them(self):
        line = "Subscribe to our newsletter for the latest news from the region every morning"
        stories = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))][:2]
        texts = {1: stories[0] + "\n" + line, 2: stories[1] + "\n" + line, 3: line}
        assert containment(shingles(line), shingles(texts[1])) == 1.0 and len(shingles(line)) < 20
        with NearDuplicates(0.8) as near:
            for i, text in texts.items():
                near.add(i, text)
            assert near.groups(lambda ids: {i: texts[i] for i in ids}) == []

    def test_boilerplate_in_every_article_makes_no_candidate(self):
        footer = ("This site uses cookies to improve your experience and to measure how our pages are read; "
                  "read our privacy policy to learn more about the data we keep and why we keep it")
        texts = {i: " ".join(f"w{i}x{k}" for k in range(40)) + ". " + footer for i in range(1, 41)}
        read = []

        def load(ids):
            read.extend(ids)
            return {i: texts[i] for i in ids}

        with NearDuplicates(0.8) as near:
            for i, text in texts.items():
                near.add(i, text)
            assert near.groups(load) == []
        assert read == []  # the footer's samples are in all 40: no evidence of copying, never a candidate

    def test_the_exact_check(self):
        story = (SEEDS / "001_af2662020e8c6291.txt").read_text(encoding="utf-8")
        assert near_duplicates(shingles(story), shingles(edited(story, 3)), 0.8)
        assert near_duplicates(shingles(excerpt(story)), shingles(story), 0.8)
        assert not near_duplicates(shingles(excerpt(story, contained=0.7)), shingles(story), 0.8)
        assert not near_duplicates(shingles(" ".join(story.split()[:18])), shingles(story), 0.8)  # under 20 5-grams

    def test_the_banding_finds_pairs_at_the_threshold(self):
        for threshold in (0.5, 0.8, 0.95):
            bands, rows = bands_for(threshold)
            assert 1 - (1 - threshold**rows) ** bands >= 0.995
            assert bands * rows <= 128


@pytest.mark.django_db
class TestSnapshotSplits:
    @pytest.fixture
    def labelled(self, project, admin_user):
        stories = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
        made = []
        for n in range(40):
            made.append(article(project, f"Report {n}: the ministry met envoys from city {n} about item {n * 7}.\nNo more.", published="2024-02-01"))
        copies = [article(project, stories[0]), article(project, edited(stories[0], 5)), article(project, edited(stories[0], 21))]
        made += copies
        for i, item in enumerate(made):
            annotate(item, admin_user, [], topics=[TOPICS[i % 4]], gold=True)
        return made, copies

    def test_no_article_in_two_splits_copies_together_and_the_card_says_so(self, project, admin_user, labelled):
        made, copies = labelled
        snapshot = build(project, admin_user, formats=["jsonl"])
        assert snapshot.status == "ready", snapshot.error
        where = {}
        for split, path in split_files(snapshot, "jsonl").items():
            for line in path.read_text(encoding="utf-8").splitlines():
                article_id = json.loads(line)["id"]
                assert article_id not in where
                where[article_id] = split
        assert set(where) == {a.id for a in made}
        assert len({where[c.id] for c in copies}) == 1
        assert snapshot.counts["near_duplicates"]["groups"] == [sorted(c.id for c in copies)]
        counts = Counter(where.values())
        assert abs(counts["train"] - 0.8 * 43) <= 3 and counts["validation"] >= 3 and counts["test"] >= 3
        card = (split_files(snapshot, "jsonl")["train"].parent / "README.md").read_text(encoding="utf-8")
        assert "1 groups of near-duplicate articles (3 articles)" in card
        assert ", ".join(str(i) for i in sorted(c.id for c in copies)) in card

    def test_an_excerpt_stays_in_its_storys_split(self, project, admin_user):
        stories = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
        made = [article(project, f"Report {n}: the ministry met envoys from city {n} about item {n * 7}.\nNo more.") for n in range(30)]
        pairs = [(article(project, story), article(project, excerpt(story))) for story in stories]
        for i, item in enumerate(made + [a for pair in pairs for a in pair]):
            annotate(item, admin_user, [], topics=[TOPICS[i % 4]], gold=True)
        for seed in (1, 2, 3):
            snapshot = build(project, admin_user, formats=["jsonl"], seed=seed)
            where = {
                json.loads(line)["id"]: split
                for split, path in split_files(snapshot, "jsonl").items()
                for line in path.read_text(encoding="utf-8").splitlines()
            }
            assert all(where[story.id] == where[part.id] for story, part in pairs)
            assert snapshot.counts["near_duplicates"]["groups"] == sorted([story.id, part.id] for story, part in pairs)
        card = (split_files(snapshot, "jsonl")["train"].parent / "README.md").read_text(encoding="utf-8")
        assert "and excerpts (at least 0.8 of an article's 5-word shingles, 20 or more, inside another" in card
        assert "5 groups of near-duplicate articles (10 articles)" in card

    def test_another_seed_moves_articles_but_the_same_seed_does_not(self, project, admin_user, labelled):
        def splits(snapshot):
            return {
                json.loads(line)["id"]: split
                for split, path in split_files(snapshot, "jsonl").items()
                for line in path.read_text(encoding="utf-8").splitlines()
            }

        first = splits(build(project, admin_user, formats=["jsonl"], seed=1))
        again = splits(build(project, admin_user, formats=["jsonl"], seed=1))
        other = splits(build(project, admin_user, formats=["jsonl"], seed=2))
        assert first == again
        assert first != other


class TestSignature:
    @given(st.lists(st.sampled_from(list("ab ẞß_-.,\n") + ["مرحبا", "\u0651", "😀", "𝐀", "e\u0301", "٣"]), max_size=40))
    def test_one_hash_per_word_of_the_exact_check_and_equal_words_hash_alike(self, pieces):
        text = "".join(pieces)
        from annotator.datasets.splits import _WORD, word_hashes

        words = _WORD.findall(text.casefold())
        hashes = word_hashes(text).tolist()
        assert len(hashes) == len(words)
        assert len({(w, h) for w, h in zip(words, hashes)}) == len(set(words)) == len(set(hashes))

    @given(st.lists(st.lists(st.sampled_from(list("ab ẞß_-.,\n") + ["مرحبا", "\u0651", "😀", "𝐀", "e\u0301", "٣", " word"]), max_size=30).map("".join), max_size=8))
    def test_a_batch_gives_each_text_the_signature_it_has_alone(self, texts):
        # Texts are hashed together; none may leak into its neighbours (short, empty and wordless ones included).
        from annotator.datasets.splits import NUM_PERM, signature, signatures

        together = signatures(texts)
        assert together.shape == (len(texts), NUM_PERM)
        for text, row in zip(texts, together):
            assert (row == signature(text)).all()
            assert (row == signatures(["only words here " * 3, text])[1]).all()

    def test_bins_agree_about_as_often_as_the_exact_jaccard(self):
        from annotator.datasets.splits import signature

        rng = random.Random(2)
        base = " ".join(rng.choice(["talks", "minister", "said", "NATO", "ceasefire", "border", "وزير", "trade", str(i)]) for i in range(900))
        errors = []
        for step in (7, 15, 30, 60, 120, 400):
            words = base.split(" ")
            for i in range(rng.randrange(step), len(words), step):
                words[i] = "edited" + words[i]
            other = " ".join(words)
            estimate = float(np.mean(signature(base) == signature(other)))
            errors.append(abs(estimate - jaccard(shingles(base), shingles(other))))
        assert max(errors) < 0.12 and sum(errors) / len(errors) < 0.06, errors
        assert (signature("short text") == signature("Short  text!")).all()
        assert not (signature("one two three four five six") == signature("seven eight nine ten eleven twelve")).any()

    def test_splits_depend_on_content_not_on_ids(self):
        shifted = [Unit(u.article_id + 5000, u.sha256, u.primary_topic) for u in unit_list(120)]
        first = assign(units(120), [], RATIOS, seed=9, topic_order=TOPICS).as_dict()
        second = assign(Units.of(shifted), [], RATIOS, seed=9, topic_order=TOPICS).as_dict()
        assert {i + 5000: s for i, s in first.items()} == second
