import re
import shutil
from pathlib import Path

import pytest
from django.urls import reverse

from annotator.datasets import build as build_module
from annotator.datasets.formats import jsonl
from annotator.datasets.models import Snapshot, SnapshotFile
from annotator.datasets.records import Selection, agreed_annotation, selected_records
from annotator.labelling.models import Relation
from annotator.projects.models import Membership
from tests.factories import UserFactory, make_project

from .helpers import annotate, article, build, file_path, parameters, split_files

pytestmark = pytest.mark.django_db


def form_data(**changes):
    data = {
        "scope": "gold", "formats": ["jsonl", "csv"], "train": "80", "validation": "10", "test": "10", "seed": "13",
        "near_duplicate_threshold": "0.8",
    }
    data.update(changes)
    return data


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="reviewer")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


class TestBuild:
    def test_same_inputs_give_byte_identical_files(self, project, admin_user, gold_corpus):
        first = build(project, admin_user)
        second = build(project, admin_user)
        assert first.status == second.status == "ready"
        hashes = lambda s: {f.name: (f.size, f.sha256) for f in s.files.all()}  # noqa: E731
        assert hashes(first) == hashes(second)
        assert {"README.md", "train.jsonl", "train.spacy", "train.parquet", "train.conll", "train.csv", "label_studio.json"} <= set(hashes(first))
        for f in first.files.all():
            assert file_path(first, f.name).read_bytes() == file_path(second, f.name).read_bytes()
        assert first.id != second.id

    def test_ready_only_with_every_file_hashed_and_named(self, project, admin_user, gold_corpus):
        snapshot = build(project, admin_user)
        assert snapshot.progress_done == snapshot.progress_total > 0
        directory = file_path(snapshot, "README.md").parent
        # every file, those in folders (the shipped tokenizer) too; no .part file or empty folder left
        on_disk = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if not p.is_dir())
        assert on_disk == sorted(snapshot.files.values_list("name", flat=True))
        assert {"tokenizer/ar/config.cfg", "tokenizer/en/tokenizer", "tokenizer/xx/meta.json"} <= set(on_disk)
        assert all(any(directory.glob(f"{p.relative_to(directory)}/*")) for p in directory.rglob("*") if p.is_dir())
        import hashlib

        for f in snapshot.files.all():
            data = file_path(snapshot, f.name).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (f.size, f.sha256)
        assert snapshot.schema["topics"][0] == "Armenia" and snapshot.schema["labels"][0]["name"] == "Claim"
        assert snapshot.counts["articles"] == 15 and snapshot.counts["examples"] == 15

    def test_the_shipped_tokenizer_is_saved_once_per_version_and_copied_whole(
        self, project, admin_user, gold_corpus, snapshot_root, monkeypatch, tmp_path
    ):
        from annotator.datasets.formats import tokens

        def tokenizer_files(directory):
            return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}

        first = build(project, admin_user, formats=["conll"])
        saved = snapshot_root / ".tokenizers" / f"ar-{tokens.tokenizer_version('ar')}"
        fresh = tmp_path / "fresh"
        tokens.save_tokenizer("ar", fresh)
        assert tokenizer_files(saved) == tokenizer_files(fresh) == tokenizer_files(file_path(first, "README.md").parent / "tokenizer" / "ar")
        saved_before = sorted(p.name for p in saved.parent.iterdir())
        assert [name.split("-")[0] for name in saved_before] == ["ar", "en", "xx"]

        # The next build copies the saved files: it makes no tokenizer to save.
        def no_saving(code, directory):
            raise AssertionError(f"saved the {code} tokenizer again")

        monkeypatch.setattr(tokens, "save_tokenizer", no_saving)
        second = build(project, admin_user, formats=["conll"])
        assert second.status == "ready", second.error
        names = sorted(n for n in second.files.values_list("name", flat=True) if n.startswith("tokenizer/"))
        assert names == sorted(n for n in first.files.values_list("name", flat=True) if n.startswith("tokenizer/"))
        for name in names:
            assert file_path(second, name).read_bytes() == file_path(first, name).read_bytes()

        # Another version of the rules is saved apart; one whose saving fails leaves nothing to copy.
        def half_saved(code, directory):
            directory.mkdir(parents=True)
            (directory / "config.cfg").write_text("half")
            raise OSError("disk full")

        monkeypatch.setattr(tokens, "MAKE_NLP_VERSION", tokens.MAKE_NLP_VERSION + 1)
        tokens.tokenizer_version.cache_clear()
        try:
            assert f"ar-{tokens.tokenizer_version('ar')}" != saved.name
            monkeypatch.setattr(tokens, "save_tokenizer", half_saved)
            with pytest.raises(OSError):
                build(project, admin_user, formats=["conll"])
            failed = Snapshot.objects.latest("created_at")
            assert failed.status == "failed" and "disk full" in failed.error
            # only the three saved whole before: no half-saved folder, under any name
            assert sorted(p.name for p in saved.parent.iterdir()) == saved_before
        finally:
            tokens.tokenizer_version.cache_clear()

    def test_a_failed_build_leaves_no_file_and_is_not_ready(self, project, admin_user, gold_corpus, monkeypatch, client):
        from annotator.datasets.formats import parquet

        def explode(self, record, split):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(parquet.Writer, "add", explode)
        with pytest.raises(RuntimeError):
            build(project, admin_user)
        snapshot = Snapshot.objects.get()
        assert snapshot.status == "failed"
        assert "RuntimeError: disk on fire" in snapshot.error
        assert not SnapshotFile.objects.exists()
        assert not (Path(build_module.snapshot_root()) / snapshot.directory).exists()
        client.force_login(admin_user)
        page = client.get(reverse("dataset_list", args=[project.id])).content.decode()
        assert "disk on fire" in page and "Failed" in page
        assert reverse("snapshot_file", args=[project.id, snapshot.id, "train.jsonl"]) not in page

    def test_a_span_that_no_longer_matches_fails_the_build(self, project, admin_user, gold_corpus):
        from django.db.models import F

        from annotator.labelling.models import Span

        Span.objects.filter(annotation__article=gold_corpus["plain"][0], text="Shoigu").update(start=F("start") + 1, end=F("end") + 1)
        with pytest.raises(Exception, match="does not match the article text"):
            build(project, admin_user)
        assert Snapshot.objects.get().status == "failed"

    def test_a_build_runs_once(self, project, admin_user, gold_corpus):
        from annotator.datasets.services import snapshot_build

        snapshot = build(project, admin_user, formats=["jsonl"])
        assert snapshot_build.call(str(snapshot.id)) == "skipped"
        assert snapshot.files.count() == 4

    def test_no_articles_gives_a_card_only(self, project, admin_user):
        snapshot = build(project, admin_user, formats=["jsonl", "parquet", "spacy"])
        assert snapshot.status == "ready"
        assert list(snapshot.files.values_list("name", flat=True)) == ["README.md"]
        assert "0 articles" in file_path(snapshot, "README.md").read_text(encoding="utf-8")


class TestScopes:
    @pytest.fixture
    def two_analysts(self, project, analyst, admin_user):
        second = UserFactory(username="zed")
        Membership.objects.create(project=project, user=second, role=Membership.Role.ANALYST)
        same = article(project, "Lavrov met Blinken in Geneva on Monday.", source="TASS", published="2024-01-10")
        differ = article(project, "Shoigu visited Damascus and Tehran.", source="RIA", published="2024-06-10")
        one = article(project, "Only one analyst did this one.", source="TASS", published="2024-03-10")
        a1 = annotate(same, analyst, [("Source", "Lavrov"), ("Quote", "met Blinken")], topics=["Armenia", "Syria"], stances={"NATO": "critical"})
        quote = a1.made_spans[1]
        from .helpers import link

        link(project, "speaker", quote, a1.made_spans[0], actor=analyst)
        a2 = annotate(same, second, [("Quote", "met Blinken"), ("Source", "Lavrov")], topics=["Syria"], stances={"NATO": "critical", "the West": "neutral"})
        link(project, "speaker", a2.made_spans[0], a2.made_spans[1], actor=second)
        annotate(differ, analyst, [("Source", "Shoigu")], topics=["Syria"])
        annotate(differ, second, [("Source", "Shoigu"), ("Claim", "Damascus")], topics=["Syria"])
        annotate(one, analyst, [("Claim", "Only one")], topics=["Other"])
        annotate(one, second, [("Claim", "one analyst")], submit=False)  # in progress: never exported
        annotate(same, admin_user, [("Source", "Lavrov")], gold=True)
        return {"same": same, "differ": differ, "one": one, "second": second}

    def records(self, project, **changes):
        return [r for r in selected_records(project, Selection.from_parameters(parameters(**changes))) if r]

    def test_gold(self, project, two_analysts):
        [record] = self.records(project, scope="gold")
        assert record["id"] == two_analysts["same"].id
        assert [a["kind"] for a in record["annotations"]] == ["gold"]

    def test_every_analyst_submitted_only(self, project, two_analysts):
        records = self.records(project, scope="analysts")
        assert [(r["id"], [a["annotator"] for a in r["annotations"]]) for r in records] == [
            (two_analysts["same"].id, ["analyst", "zed"]),
            (two_analysts["differ"].id, ["analyst", "zed"]),
            (two_analysts["one"].id, ["analyst"]),
        ]

    def test_one_analyst(self, project, two_analysts):
        records = self.records(project, scope="analyst", analyst=two_analysts["second"].id)
        assert [r["id"] for r in records] == [two_analysts["same"].id, two_analysts["differ"].id]
        assert {a["annotator"] for r in records for a in r["annotations"]} == {"zed"}

    def test_agreed_is_the_consensus_of_identical_spans(self, project, two_analysts):
        [record] = self.records(project, scope="agreed")
        assert record["id"] == two_analysts["same"].id
        [consensus] = record["annotations"]
        assert consensus["kind"] == "agreed" and consensus["agreed_by"] == ["analyst", "zed"]
        assert sorted((s["label"], s["text"]) for s in consensus["spans"]) == [("Quote", "met Blinken"), ("Source", "Lavrov")]
        assert consensus["topics"] == ["Syria"]
        assert consensus["stance"] == {"NATO": "critical"}
        ids = {s["label"]: s["id"] for s in consensus["spans"]}
        # The consensus's relation keeps the first analyst's id, as its spans do.
        first = Relation.objects.get(annotation__annotator__username="analyst", annotation__article=two_analysts["same"])
        assert consensus["relations"] == [{"id": first.id, "type": "speaker", "source": ids["Quote"], "target": ids["Source"]}]

    def test_agreement_needs_two_and_counts_duplicates(self):
        base = {"annotator": "a", "kind": "analyst", "status": "submitted", "relations": [], "topics": [], "stance": {}}
        span = {"id": 1, "start": 0, "end": 3, "label": "Claim", "text": "abc", "attributes": {}}
        assert agreed_annotation([{**base, "spans": [span]}]) is None
        assert agreed_annotation([{**base, "spans": [span, {**span, "id": 2}]}, {**base, "annotator": "b", "spans": [span]}]) is None
        assert agreed_annotation([{**base, "spans": [span]}, {**base, "annotator": "b", "spans": [{**span, "end": 2, "text": "ab"}]}]) is None

    def test_filters(self, project, two_analysts):
        assert [r["id"] for r in self.records(project, scope="analysts", sources=["TASS"])] == [two_analysts["same"].id, two_analysts["one"].id]
        assert [r["id"] for r in self.records(project, scope="analysts", topics=["Other"])] == [two_analysts["one"].id]
        assert [r["id"] for r in self.records(project, scope="analysts", published_from="2024-02-01", published_to="2024-06-30")] == [
            two_analysts["differ"].id, two_analysts["one"].id,
        ]

    def test_the_card_counts_what_was_left_out_and_the_agreement(self, project, admin_user, two_analysts):
        snapshot = build(project, admin_user, scope="agreed", formats=["jsonl"])
        assert snapshot.counts["left_out"] == {"no_agreement": 2}
        card = file_path(snapshot, "README.md").read_text(encoding="utf-8")
        assert "analysts' spans differ, or fewer than two analysts: 2" in card
        assert "## Agreement between analysts on these articles" in card
        assert "| Articles with two or more analysts | 1 |" in card

    @pytest.mark.parametrize("formats", [["jsonl"], ["jsonl", "csv"]])
    def test_each_jsonl_line_is_the_records_line(self, project, admin_user, two_analysts, formats):
        # With CSV the spooled records are decoded too; JSONL alone writes the spooled lines.
        snapshot = build(project, admin_user, scope="analysts", formats=formats)
        expected = [jsonl.line(r) for r in self.records(project, scope="analysts")]
        written = [
            line for path in split_files(snapshot, "jsonl").values() for line in path.read_bytes().splitlines(keepends=True)
        ]
        assert len(expected) == 3 and sorted(written) == sorted(expected)


class TestPage:
    def url(self, project):
        return reverse("dataset_list", args=[project.id])

    def test_analyst_403_non_member_404_anonymous_to_login(self, client, project, analyst, other_user):
        client.force_login(analyst)
        assert client.get(self.url(project)).status_code == 403
        assert client.post(self.url(project), form_data()).status_code == 403
        client.force_login(other_user)
        assert client.get(self.url(project)).status_code == 404
        client.logout()
        assert client.get(self.url(project)).status_code == 302
        assert not Snapshot.objects.exists()

    def test_reviewer_makes_a_snapshot_and_it_is_built_after_commit(self, client, project, reviewer, gold_corpus, django_capture_on_commit_callbacks):
        client.force_login(reviewer)
        page = client.get(self.url(project))
        assert page.status_code == 200
        assert "Make snapshot" in page.content.decode()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(self.url(project), form_data(topics=["Armenia", "Syria"], sources=["+TASS", "RT Arabic"], seed="99"))
        assert response.status_code == 302 and response["Location"] == self.url(project)
        assert len(callbacks) == 1
        snapshot = Snapshot.objects.get()
        assert snapshot.created_by == reviewer and snapshot.project == project
        assert snapshot.parameters["filters"]["topics"] == ["Armenia", "Syria"]
        assert snapshot.parameters["filters"]["sources"] == ["+TASS", "RT Arabic"]
        assert snapshot.parameters["split"] == {"train": 80, "validation": 10, "test": 10, "seed": 99, "near_duplicate_threshold": 0.8}
        assert snapshot.parameters["formats"] == ["jsonl", "csv"]
        assert snapshot.status == "ready", snapshot.error
        assert snapshot.counts["articles"] == 2  # the English and the Arabic article
        page = client.get(self.url(project)).content.decode()
        assert reverse("snapshot_file", args=[project.id, snapshot.id, "README.md"]) in page

    def test_htmx_post_returns_the_partial(self, client, project, admin_user, django_capture_on_commit_callbacks):
        client.force_login(admin_user)
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(self.url(project), form_data(), headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="exports">') and "<html" not in html
        snapshot = Snapshot.objects.get()
        assert snapshot.status == "queued"
        assert f'hx-get="{reverse("snapshot_detail", args=[project.id, snapshot.id])}"' in html
        assert 'hx-trigger="every 1s"' in html and "Waiting for a worker" in html

    def test_invalid_form_creates_nothing(self, client, project, admin_user):
        client.force_login(admin_user)
        response = client.post(self.url(project), form_data(train="70"))
        assert response.status_code == 400
        assert "must add up to 100 (they add up to 90)" in response.content.decode()
        response = client.post(self.url(project), form_data(scope="analyst"), headers={"HX-Request": "true"})
        assert response.status_code == 200 and "Choose the analyst" in response.content.decode()
        response = client.post(self.url(project), form_data(formats=[]))
        assert response.status_code == 400
        assert not Snapshot.objects.exists()

    def test_progress_partial_polls_while_running_and_stops_when_ready(self, client, project, admin_user, gold_corpus):
        running = Snapshot.objects.create(project=project, created_by=admin_user, parameters=parameters(), status="running", progress_done=3, progress_total=12)
        client.force_login(admin_user)
        url = reverse("snapshot_detail", args=[project.id, running.id])
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert 'hx-trigger="every 1s"' in html and 'value="25"' in html and "Building" in html
        assert client.get(url).status_code == 302
        ready = build(project, admin_user, formats=["jsonl"])
        html = client.get(reverse("snapshot_detail", args=[project.id, ready.id]), headers={"HX-Request": "true"}).content.decode()
        assert "hx-trigger" not in html
        assert "15 articles, 15 examples" in html
        for name in ("README.md", "train.jsonl"):
            assert reverse("snapshot_file", args=[project.id, ready.id, name]) in html

    def test_snapshot_of_another_project_is_404(self, client, project, admin_user, gold_corpus):
        snapshot = build(project, admin_user, formats=["jsonl"])
        theirs = make_project(name="Theirs", admin=admin_user)
        client.force_login(admin_user)
        assert client.get(reverse("snapshot_detail", args=[theirs.id, snapshot.id]), headers={"HX-Request": "true"}).status_code == 404
        assert client.get(reverse("snapshot_file", args=[theirs.id, snapshot.id, "README.md"])).status_code == 404


class TestDownload:
    def test_attachment_with_safe_name_and_exact_bytes(self, client, project, reviewer, gold_corpus):
        snapshot = build(project, reviewer, formats=["jsonl", "parquet"])
        client.force_login(reviewer)
        response = client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "train.jsonl"]))
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="train.jsonl"'
        assert response["Content-Type"] == jsonl.CONTENT_TYPE
        assert b"".join(response.streaming_content) == file_path(snapshot, "train.jsonl").read_bytes()
        response = client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "train.parquet"]))
        assert b"".join(response.streaming_content)[:4] == b"PAR1"

    def test_who_may_download(self, client, project, admin_user, analyst, other_user, gold_corpus):
        snapshot = build(project, admin_user, formats=["jsonl"])
        url = reverse("snapshot_file", args=[project.id, snapshot.id, "README.md"])
        client.force_login(analyst)
        assert client.get(url).status_code == 403
        client.force_login(other_user)
        assert client.get(url).status_code == 404
        client.logout()
        assert client.get(url).status_code == 302

    def test_a_shipped_tokenizer_file_downloads_under_a_flat_name(self, client, project, admin_user, gold_corpus):
        snapshot = build(project, admin_user, formats=["conll"])
        client.force_login(admin_user)
        response = client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "tokenizer/ar/config.cfg"]))
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="tokenizer-ar-config.cfg"'
        content = b"".join(response.streaming_content)
        assert content == file_path(snapshot, "tokenizer/ar/config.cfg").read_bytes() and b'lang = "ar"' in content
        for name in ("tokenizer/ar/../../README.md", "tokenizer/ar", "tokenizer/ar/"):
            assert client.get(reverse("snapshot_file", args=[project.id, snapshot.id, name])).status_code == 404

    def test_only_listed_files_of_ready_snapshots(self, client, project, admin_user, gold_corpus, snapshot_root):
        snapshot = build(project, admin_user, formats=["jsonl"])
        client.force_login(admin_user)
        (Path(snapshot_root) / snapshot.directory / "secret.txt").write_text("not listed")
        for name in ("secret.txt", "..", ".README.md.part", "..%2F..%2Fdb.sqlite3"):
            assert client.get(reverse("snapshot_file", args=[project.id, snapshot.id, name])).status_code == 404
        assert client.get(f"/p/{project.id}/datasets/{snapshot.id}/../../../settings.py").status_code == 404
        Snapshot.objects.filter(pk=snapshot.pk).update(status="running")
        assert client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "README.md"])).status_code == 404

    def test_missing_file_on_disk_is_404(self, client, project, admin_user, gold_corpus, snapshot_root):
        snapshot = build(project, admin_user, formats=["jsonl"])
        shutil.rmtree(Path(snapshot_root) / snapshot.directory)
        client.force_login(admin_user)
        assert client.get(reverse("snapshot_file", args=[project.id, snapshot.id, "README.md"])).status_code == 404

    def test_file_names_are_safe_by_constraint(self, project, admin_user, gold_corpus):
        from django.db import IntegrityError, transaction

        snapshot = build(project, admin_user, formats=["jsonl"])
        for name in ('a"b', "../x", "a/../b", "a/.b", "/a", "a//b", "a/", "a\\b", "a\r\nb", ".hidden"):
            with pytest.raises(IntegrityError), transaction.atomic():
                SnapshotFile.objects.create(snapshot=snapshot, name=name, format="x", size=0, sha256="0" * 64, path="x")
        # a file in folders (a shipped tokenizer's) is fine
        SnapshotFile.objects.create(snapshot=snapshot, name="tokenizer/ar/config.cfg", format="x", size=0, sha256="0" * 64, path="x")
        assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*", f.name) for f in snapshot.files.all())
        assert split_files(snapshot, "jsonl")


class TestAdmin:
    def test_look_but_do_not_touch(self, client, project, admin_user, gold_corpus, snapshot_root):
        snapshot = build(project, admin_user, formats=["jsonl"])
        root = UserFactory(username="root")
        root.is_staff = root.is_superuser = True
        root.save()
        client.force_login(root)
        assert client.get(reverse("admin:datasets_snapshot_changelist")).status_code == 200
        page = client.get(reverse("admin:datasets_snapshot_change", args=[snapshot.pk]))
        assert page.status_code == 200 and "train.jsonl" in page.content.decode()
        file = snapshot.files.first()
        assert client.get(reverse("admin:datasets_snapshotfile_change", args=[file.pk])).status_code == 200
        assert client.get(reverse("admin:datasets_snapshot_add")).status_code == 403
        assert client.post(reverse("admin:datasets_snapshot_delete", args=[snapshot.pk]), {"post": "yes"}).status_code == 403
        assert client.post(reverse("admin:datasets_snapshot_change", args=[snapshot.pk]), {"status": "failed"}).status_code == 403
        snapshot.refresh_from_db()
        assert snapshot.status == "ready" and (Path(snapshot_root) / snapshot.directory).exists()


class TestDelete:
    def url(self, project, snapshot):
        return reverse("snapshot_delete", args=[project.id, snapshot.id])

    def test_a_ready_snapshot_and_its_files_go(self, client, project, reviewer, gold_corpus, snapshot_root,
                                               django_capture_on_commit_callbacks):
        snapshot = build(project, reviewer, formats=["jsonl"])
        kept = build(project, reviewer, formats=["csv"])
        folder = Path(snapshot_root) / snapshot.directory
        assert (folder / "README.md").exists()
        client.force_login(reviewer)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(self.url(project, snapshot), headers={"HX-Request": "true"})
        assert response.status_code == 200 and response.content == b""  # the page removes the panel
        assert not Snapshot.objects.filter(pk=snapshot.pk).exists()
        assert not SnapshotFile.objects.filter(snapshot_id=snapshot.pk).exists()
        assert not folder.exists()
        assert (Path(snapshot_root) / kept.directory / "README.md").exists()
        assert Snapshot.objects.filter(pk=kept.pk, status="ready").exists()

    def test_a_failed_one_too_and_a_plain_post_goes_back_to_the_page(self, client, project, admin_user, gold_corpus):
        snapshot = build(project, admin_user, formats=["jsonl"])
        Snapshot.objects.filter(pk=snapshot.pk).update(status="failed", error="boom")
        client.force_login(admin_user)
        response = client.post(self.url(project, snapshot), follow=True)
        assert response.redirect_chain == [(reverse("dataset_list", args=[project.id]), 302)]
        assert "The snapshot and its files were deleted." in response.content.decode()
        assert not Snapshot.objects.exists()

    @pytest.mark.parametrize("status", ["queued", "running"])
    def test_one_being_built_is_refused_and_kept(self, client, project, admin_user, gold_corpus, snapshot_root, status):
        snapshot = build(project, admin_user, formats=["jsonl"])
        Snapshot.objects.filter(pk=snapshot.pk).update(status=status)
        client.force_login(admin_user)
        response = client.post(self.url(project, snapshot), headers={"HX-Request": "true"})
        assert response.status_code == 409
        assert "still being built" in response.content.decode()
        assert Snapshot.objects.filter(pk=snapshot.pk, status=status).exists()
        assert (Path(snapshot_root) / snapshot.directory / "README.md").exists()

    def test_only_staff_of_this_project_and_only_by_post(self, client, project, admin_user, analyst, gold_corpus):
        snapshot = build(project, admin_user, formats=["jsonl"])
        client.force_login(analyst)
        assert client.post(self.url(project, snapshot)).status_code == 403
        client.force_login(admin_user)
        assert client.get(self.url(project, snapshot)).status_code == 405
        theirs = make_project(name="Theirs", admin=admin_user)
        assert client.post(reverse("snapshot_delete", args=[theirs.id, snapshot.id])).status_code == 404
        assert Snapshot.objects.filter(pk=snapshot.pk).exists()
