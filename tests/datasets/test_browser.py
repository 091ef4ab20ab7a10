"""A reviewer makes a snapshot on the export page, watches it finish, and downloads its files."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotator.datasets.models import Snapshot, snapshot_root
from annotator.datasets.services import snapshot_build
from annotator.projects.models import Membership
from tests.browser.helpers import axe_check, log_in
from tests.factories import UserFactory

from .helpers import annotate, article, parameters

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reviewer(project):
    user = UserFactory(username="reviewer1")
    Membership.objects.create(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def reviewed(project, reviewer):
    for n in range(5):
        item = article(project, f"Lavrov met envoy {n} about grain shipment {n * 11}.", language="en", source="TASS")
        annotate(item, reviewer, [("Source", "Lavrov")], topics=["Armenia" if n % 2 else "Syria"], gold=True)


def test_make_a_snapshot_watch_it_finish_and_download(page, project, reviewer, reviewed):
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/datasets/")
    expect(page.get_by_role("heading", name="Datasets for model training")).to_be_visible()
    axe_check(page)
    page.get_by_label("Gold: reviewed annotations").check()
    for label in ("spaCy DocBin", "CoNLL-2003", "Label Studio"):
        page.get_by_label(label).uncheck()
    page.get_by_label("Seed").fill("21")
    page.get_by_role("button", name="Make snapshot").click()

    snapshot_card = page.locator("article.snapshot").first
    expect(snapshot_card).to_have_attribute("data-status", "ready", timeout=30_000)
    expect(snapshot_card.locator("caption")).to_have_text("5 articles, 5 examples")
    snapshot = Snapshot.objects.get()
    assert snapshot.parameters["split"]["seed"] == 21
    assert snapshot.parameters["formats"] == ["jsonl", "csv", "parquet"]

    with page.expect_download() as info:
        snapshot_card.get_by_role("link", name="train.jsonl").click()
    assert info.value.suggested_filename == "train.jsonl"
    records = [json.loads(line) for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines()]
    assert records and all(r["annotations"][0]["kind"] == "gold" for r in records)
    with page.expect_download() as info:
        snapshot_card.get_by_role("link", name="README.md").click()
    assert "## How it was made" in Path(info.value.path()).read_text(encoding="utf-8")

    # Deleting asks first; dismissed, nothing happens; accepted, the panel and the files go.
    folder = snapshot_root() / snapshot.directory
    page.once("dialog", lambda dialog: dialog.dismiss())
    snapshot_card.get_by_role("button", name="Delete snapshot").click()
    expect(snapshot_card).to_be_visible()
    assert Snapshot.objects.filter(pk=snapshot.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    snapshot_card.get_by_role("button", name="Delete snapshot").click()
    expect(page.locator("article.snapshot")).to_have_count(0)
    assert not Snapshot.objects.filter(pk=snapshot.pk).exists()
    assert not folder.exists()
    assert page.csp_errors == []


def test_a_queued_snapshot_shows_progress_until_a_worker_builds_it(page, project, reviewer, reviewed):
    queued = Snapshot.objects.create(project=project, created_by=reviewer, parameters=parameters(formats=["jsonl"]))
    log_in(page, "reviewer1")
    page.goto(f"/p/{project.id}/datasets/")
    card = page.locator(f"#snapshot-{queued.id}")
    expect(card).to_have_attribute("data-status", "queued")
    expect(card.get_by_text("Waiting for a worker")).to_be_visible()
    expect(card.get_by_role("progressbar")).to_be_visible()

    snapshot_build.call(str(queued.id))  # what the worker does

    expect(card).to_have_attribute("data-status", "ready", timeout=10_000)
    expect(card.get_by_role("link", name="README.md")).to_be_visible()
    expect(card.get_by_text("Waiting for a worker")).to_have_count(0)
