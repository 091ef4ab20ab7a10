"""A snapshot of many records is written by shard tasks (build.py): the same files as one task
writes, whatever order the shards ran in, each shard written once; a failing shard fails it."""

import pytest
from annotator.datasets import build as build_module
from annotator.heartbeat import Abandoned
from annotator.datasets.formats import spacy_docbin
from annotator.datasets.models import Snapshot, SnapshotShard
from annotator.datasets.services import snapshot_build, snapshot_write_shard
from annotator.projects.models import Membership
from tests.factories import UserFactory

from .helpers import annotate, article, build, file_path, parameters

pytestmark = pytest.mark.django_db

TEXT_FORMATS = ["jsonl", "csv", "conll", "label-studio"]


def files(snapshot) -> dict[str, bytes]:
    return {f.name: file_path(snapshot, f.name).read_bytes() for f in snapshot.files.all()}


def sharded(project, user, capture, *, order=None, **changes) -> Snapshot:
    """Built by its task and its shard tasks (the immediate backend runs each as it is enqueued
    after a commit): each round of them (the selects, then the writes) in `order` (a function of
    their enqueueing callbacks)."""
    with capture(execute=False) as callbacks:
        snapshot = build(project, user, **changes)
    assert len(callbacks) > 1
    while callbacks:
        with capture(execute=False) as queued:
            for callback in (order or list)(callbacks):
                callback()
        callbacks = queued
    snapshot.refresh_from_db()
    return snapshot


def selected(project, user, capture, **changes) -> tuple[Snapshot, list]:
    """Built by its task, its shards selected by their tasks (and split by the last one): the
    snapshot, and the callbacks that queue each shard's task to write it."""
    with capture(execute=False) as callbacks:
        snapshot = build(project, user, **changes)
    with capture(execute=False) as writes:
        for callback in callbacks:
            callback()
    assert len(writes) == len(callbacks) > 1
    snapshot.refresh_from_db()
    return snapshot, writes


@pytest.fixture
def two_analysts(project, analyst, admin_user):
    """Ten articles coded by two analysts who agree on some and not on others, beside the gold."""
    second = UserFactory(username="zed")
    Membership.objects.create(project=project, user=second, role=Membership.Role.ANALYST)
    for n in range(10):
        item = article(project, f"Lavrov met Blinken in Geneva, meeting {n}, on grain and gas.", source="TASS")
        annotate(item, analyst, [("Source", "Lavrov"), ("Quote", "met Blinken")], topics=["Armenia"], stances={"NATO": "critical"})
        if n % 3:
            annotate(item, second, [("Source", "Lavrov"), ("Claim", "grain and gas")], topics=["Armenia", "Syria"][: 1 + n % 2])


class TestShards:
    @pytest.fixture(autouse=True)
    def small_shards(self, settings):
        settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2

    def test_text_formats_and_card_are_the_bytes_one_task_writes(
        self, settings, project, admin_user, two_analysts, gold_corpus, django_capture_on_commit_callbacks
    ):
        for scope in ("analysts", "gold"):
            snapshot = sharded(project, admin_user, django_capture_on_commit_callbacks, scope=scope, formats=TEXT_FORMATS)
            assert snapshot.status == "ready", snapshot.error
            settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2000
            whole = build(project, admin_user, scope=scope, formats=TEXT_FORMATS)
            settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
            assert whole.status == "ready"
            assert files(snapshot) == files(whole)
            assert snapshot.counts == whole.counts
            if scope == "analysts":  # the agreement counted from the records, shard by shard
                assert snapshot.counts["articles"] == 10
                assert b"| Articles with two or more analysts | " in files(snapshot)["README.md"]
        assert snapshot.counts["articles"] == 15
        assert files(snapshot)["train.csv"].count(b"article_id,sha256") == 1
        assert files(snapshot)["label_studio.json"].startswith(b"[\n{") and files(snapshot)["label_studio.json"].endswith(b"}\n]\n")

    def test_the_files_do_not_depend_on_the_order_the_shards_ran_in(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks, monkeypatch
    ):
        monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", 2)  # so that a shard task writes several spaCy files
        in_order = sharded(project, admin_user, django_capture_on_commit_callbacks)
        reversed_ = sharded(project, admin_user, django_capture_on_commit_callbacks, order=lambda c: c[::-1])
        assert in_order.status == reversed_.status == "ready"
        assert files(in_order) == files(reversed_)
        names = set(files(in_order))
        # Fifteen records in shards of two: every split's Parquet file of each shard, numbered on.
        assert {"train-00000.parquet", "train-00001.parquet", "train/train-00000.spacy", "train/train-00001.spacy"} <= names
        assert "train.parquet" not in names and "train.spacy" not in names
        assert b"train-00000.parquet" in files(in_order)["README.md"]
        assert not SnapshotShard.objects.exists()  # done with once the snapshot is ready

    def test_spacy_and_parquet_hold_what_one_task_writes(
        self, settings, project, admin_user, gold_corpus, django_capture_on_commit_callbacks, monkeypatch
    ):
        import pyarrow.parquet as pq
        from spacy.tokens import DocBin
        from spacy.vocab import Vocab

        # Shards of four records, spaCy files of two docs: a shard task writes several files of a split.
        settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 4
        monkeypatch.setattr(spacy_docbin, "SHARD_DOCS", 2)
        snapshot = sharded(project, admin_user, django_capture_on_commit_callbacks)
        settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2000
        whole = build(project, admin_user)
        assert snapshot.counts == whole.counts
        sharded_files, whole_files = files(snapshot), files(whole)
        for name in whole_files:
            if name.endswith((".jsonl", ".csv", ".conll", ".json", ".xml")) or name.startswith("tokenizer/"):
                assert sharded_files[name] == whole_files[name], name

        def rows(snapshot, split):
            names = sorted(n for n in files(snapshot) if n.endswith(".parquet") and n.startswith(split))
            return [row for name in names for row in pq.read_table(file_path(snapshot, name)).to_pylist()]

        def docs(snapshot, split):
            names = sorted(n for n in files(snapshot) if n.endswith(".spacy") and n.startswith(split))
            return [
                (doc.to_json(), doc.user_data)
                for name in names
                for doc in DocBin().from_bytes(file_path(snapshot, name).read_bytes()).get_docs(Vocab())
            ]

        for split in ("train", "validation", "test"):
            assert rows(snapshot, split) == rows(whole, split)
            assert docs(snapshot, split) == docs(whole, split)
        assert len(rows(snapshot, "train")) == len(docs(snapshot, "train")) > 2

    def test_a_shard_run_twice_is_written_and_counted_once(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks
    ):
        def first_twice(callbacks):
            return [callbacks[0], *callbacks]

        snapshot = sharded(project, admin_user, django_capture_on_commit_callbacks, formats=TEXT_FORMATS, order=first_twice)
        assert snapshot.status == "ready"
        assert snapshot.counts["articles"] == 15
        assert files(snapshot)["train.jsonl"].count(b"\n") == snapshot.counts["splits"]["train"]["articles"]
        assert snapshot_write_shard.call(str(snapshot.id), 0) == "skipped"

    def test_of_two_runs_of_the_last_shard_one_joins(self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            snapshot = build(project, admin_user, formats=["jsonl"])
        last = len(callbacks) - 1
        assert [build_module._shard_done(snapshot, n, f"part-{n}") for n in range(last)] == [None] * last
        assert build_module._shard_done(snapshot, last, "part-last") == [f"part-{n}" for n in range(last)] + ["part-last"]
        # A second run of a shard (the last, or any) finds it done: it neither joins nor counts.
        assert build_module._shard_done(snapshot, last, "again") is None
        assert build_module._shard_done(snapshot, 0, "again") is None
        assert SnapshotShard.objects.get(snapshot=snapshot, number=0).folder == "part-0"

    def test_a_stalled_run_of_a_shard_going_on_after_the_snapshot_is_ready_keeps_its_files(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks, snapshot_root
    ):
        snapshot = sharded(project, admin_user, django_capture_on_commit_callbacks, formats=TEXT_FORMATS)
        assert snapshot.status == "ready"
        published = files(snapshot)
        # Recovery queued shard 0 again while its first run was stalled, and the second run was
        # written and joined; the first goes on now, past the check its task made at the start.
        with pytest.raises(Abandoned):
            build_module.write_shard(snapshot, 0)
        snapshot.refresh_from_db()
        assert snapshot.status == "ready"
        assert files(snapshot) == published
        assert not any((snapshot_root / snapshot.directory).glob(".shard-*"))

    def test_a_run_of_a_shard_that_another_run_wrote_first_fails_alone(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks, monkeypatch, snapshot_root
    ):
        from annotator.datasets.formats import jsonl

        snapshot, callbacks = selected(project, admin_user, django_capture_on_commit_callbacks, formats=["jsonl"])
        callbacks[0]()  # shard 0, written
        with monkeypatch.context() as patch:
            # Its other run fails (the join removed its folder, say).
            patch.setattr(jsonl.Writer, "add_line", lambda *args: (_ for _ in ()).throw(FileNotFoundError("gone")))
            with pytest.raises(FileNotFoundError):
                build_module.write_shard(snapshot, 0)
        snapshot.refresh_from_db()
        assert (snapshot.status, snapshot.error) == ("running", "")
        written = [p for p in (snapshot_root / snapshot.directory).glob(".shard-*") if "-select-" not in p.name]
        assert len(written) == 1  # the first run's part, kept; the second run's removed
        for callback in callbacks[1:]:
            callback()
        snapshot.refresh_from_db()
        assert snapshot.status == "ready", snapshot.error
        assert snapshot.counts["articles"] == 15

    def test_the_build_task_says_it_handed_the_files_to_shard_tasks(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks
    ):
        # What its row in the worker's task list says: not "ready", which the snapshot is not yet.
        snapshot = Snapshot.objects.create(project=project, created_by=admin_user, parameters=parameters(formats=["jsonl"]))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert snapshot_build.call(str(snapshot.id)) == "sharded"
        snapshot.refresh_from_db()
        assert snapshot.status == "running" and len(callbacks) == 8

    def test_progress_grows_with_each_shard(self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            snapshot = build(project, admin_user, formats=["jsonl"])
        snapshot.refresh_from_db()
        assert (snapshot.progress_done, snapshot.progress_total) == (0, 2 * 15 + 1)
        with django_capture_on_commit_callbacks(execute=False) as writes:
            seen = [0]
            for callback in callbacks:
                callback()
                snapshot.refresh_from_db()
                seen.append(snapshot.progress_done)
        assert [b - a for a, b in zip(seen, seen[1:])] == [2] * 7 + [1]  # each shard's candidates read
        # Every candidate read, the left-out ones counted: the written ones and the card to go.
        assert snapshot.progress_total - snapshot.progress_done == 15 + 1
        callbacks = writes
        seen = [snapshot.progress_done]
        for callback in callbacks[:-1]:
            callback()
            snapshot.refresh_from_db()
            seen.append(snapshot.progress_done)
        assert [b - a for a, b in zip(seen, seen[1:])] == [2] * 7
        callbacks[-1]()
        snapshot.refresh_from_db()
        assert snapshot.status == "ready" and snapshot.progress_done == snapshot.progress_total

    def test_a_failing_shard_fails_the_snapshot_and_the_others_do_nothing(
        self, project, admin_user, gold_corpus, django_capture_on_commit_callbacks, monkeypatch, snapshot_root
    ):
        from annotator.datasets.formats import jsonl

        snapshot, callbacks = selected(project, admin_user, django_capture_on_commit_callbacks, formats=["jsonl"])
        callbacks[0]()
        calls = []

        def broken(self, line, split):
            calls.append(line)
            raise RuntimeError("disk full")

        monkeypatch.setattr(jsonl.Writer, "add_line", broken)
        for callback in callbacks[1:]:
            callback()  # the immediate backend records the task's error; the shards after it find the snapshot failed
        assert len(calls) == 1
        snapshot.refresh_from_db()
        assert (snapshot.status, snapshot.error) == ("failed", "RuntimeError: disk full")
        assert not snapshot.files.exists()
        assert not (snapshot_root / snapshot.directory).exists()


def test_a_shard_whose_candidates_are_all_left_out_writes_nothing_of_them(
    project, admin_user, gold_corpus, django_capture_on_commit_callbacks, settings
):
    # Shards are ranges of candidates: with a topic filter, whole shards select no record.
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
    snapshot = sharded(project, admin_user, django_capture_on_commit_callbacks, topics=["Ukraine"])
    assert snapshot.status == "ready", snapshot.error
    assert snapshot.counts["articles"] == 3 and snapshot.counts["left_out"] == {"topic_filter": 12}
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2000
    whole = build(project, admin_user, topics=["Ukraine"])
    assert snapshot.counts == whole.counts
    sharded_files, whole_files = files(snapshot), files(whole)
    for name in whole_files:
        if name.endswith((".jsonl", ".csv", ".conll", ".json")):
            assert sharded_files[name] == whole_files[name], name


def test_a_split_cut_short_is_made_by_the_next_run_of_the_last_shard_selected(
    project, admin_user, gold_corpus, django_capture_on_commit_callbacks, settings, monkeypatch
):
    # The worker of the last shard selected stopped as it was to split them all: recovery queues
    # that shard again, and its next run (the shard is selected: a write) splits them first.
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        snapshot = build(project, admin_user, formats=TEXT_FORMATS)
    with django_capture_on_commit_callbacks(execute=False) as none:
        for callback in callbacks[:-1]:
            callback()
        # A shard selected, queued again (its worker stopped before its task ended): it waits
        # for the others' selects, and the last one's split.
        assert snapshot_write_shard.call(str(snapshot.id), 0) == "waiting"
    assert none == []
    with monkeypatch.context() as patch:
        patch.setattr(build_module, "_split_shards", lambda *args: None)
        callbacks[-1]()
    assert not SnapshotShard.objects.filter(snapshot=snapshot, selected="").exists()
    with django_capture_on_commit_callbacks(execute=False) as writes:
        assert snapshot_write_shard.call(str(snapshot.id), 7) == "split"
    assert len(writes) == 8
    for callback in writes:
        callback()
    snapshot.refresh_from_db()
    assert snapshot.status == "ready", snapshot.error
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2000
    assert files(snapshot) == files(build(project, admin_user, formats=TEXT_FORMATS))


def test_a_snapshot_of_one_shard_is_written_by_its_own_task(project, admin_user, gold_corpus, django_capture_on_commit_callbacks, settings):
    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 15
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        snapshot = build(project, admin_user)
    snapshot.refresh_from_db()
    assert callbacks == [] and snapshot.status == "ready"
    again = Snapshot.objects.create(project=project, created_by=admin_user, parameters=snapshot.parameters)
    assert snapshot_build.call(str(again.id)) == "ready"
    assert not SnapshotShard.objects.exists()
    assert {"train.parquet", "train.spacy"} <= set(files(snapshot))
    directory = file_path(snapshot, "README.md").parent
    assert not list(directory.glob(".*"))  # no spool, no shard folder


@pytest.mark.django_db(transaction=True)
def test_a_join_cut_short_by_the_database_going_away_fails_the_snapshot_visibly(
    project, admin_user, gold_corpus, settings, monkeypatch, snapshot_root
):
    # The last shard's task joins the shards, then the database goes away before the snapshot is
    # published (and before the task can record why). Its run once the database is back cannot
    # join again (the spool and the shards' folders are gone): the snapshot must not stay running
    # with no task left to finish it.
    from django.db.utils import OperationalError

    from annotator.datasets import services

    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
    away = []
    card, written_by_another_run = build_module._card, build_module._written_by_another_run

    def card_then_gone(*args, **kwargs):
        written = card(*args, **kwargs)
        if not away:
            away.append(True)
            raise OperationalError("server closed the connection unexpectedly")
        return written

    def still_gone(*args, **kwargs):
        if away == [True]:
            away.append(False)  # back for the next attempt
            raise OperationalError("server closed the connection unexpectedly")
        return written_by_another_run(*args, **kwargs)

    monkeypatch.setattr(build_module, "_card", card_then_gone)
    monkeypatch.setattr(build_module, "_written_by_another_run", still_gone)
    monkeypatch.setattr(services, "wait_for_database", lambda: True)
    snapshot = build(project, admin_user, formats=["jsonl"])  # its shard tasks run as they are enqueued
    assert away == [True, False]
    assert snapshot.status == "failed"
    assert snapshot.error == build_module.JOIN_CUT_SHORT
    assert not snapshot.files.exists()
    assert not (snapshot_root / snapshot.directory).exists()


@pytest.mark.django_db(transaction=True)
def test_the_spool_is_closed_before_a_shard_task_can_read_it(project, admin_user, gold_corpus, settings, monkeypatch):
    # Shard tasks may run on other machines, sharing the snapshot root: over NFS a file's writes
    # are sure to be seen by another machine once the writer closes it (close-to-open), not before.
    import os

    def spools_open_here():
        names = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                names.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor)
        return [name for name in names if name.endswith(build_module.SPOOL)]

    settings.ANNOTATOR_SNAPSHOT_SHARD_RECORDS = 2
    seen = []
    write_shard = build_module.write_shard
    monkeypatch.setattr(build_module, "write_shard", lambda *args: seen.append(spools_open_here()) or write_shard(*args))
    snapshot = build(project, admin_user, formats=["jsonl"])  # its shard tasks run as they are enqueued
    assert snapshot.status == "ready", snapshot.error
    assert seen == [[]] * 8


def test_a_snapshot_whose_shards_were_handed_out_before_the_upgrade_is_failed_by_the_migration(project, admin_user):
    # Its shards have the old shape (one spool, selected by the build task): today's shard tasks
    # cannot write them, so the migration fails it visibly rather than leaving it to fail oddly.
    from importlib import import_module

    from django.apps import apps

    migration = import_module("annotator.datasets.migrations.0006_shard_selected")
    sharded, building, ready = (
        Snapshot.objects.create(project=project, created_by=admin_user, parameters=parameters(formats=["jsonl"]), status=status)
        for status in ("running", "running", "ready")
    )
    SnapshotShard.objects.bulk_create(SnapshotShard(snapshot=s, number=n) for s in (sharded, ready) for n in range(2))
    migration.fail_snapshots_sharded_before(apps, None)
    states = {s.pk: (s.status, s.error) for s in Snapshot.objects.all()}
    assert states == {
        sharded.pk: ("failed", migration.HANDED_OUT_BEFORE), building.pk: ("running", ""), ready.pk: ("ready", ""),
    }
    assert not SnapshotShard.objects.filter(snapshot=sharded).exists()
