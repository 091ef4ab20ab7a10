"""The labelling page's skip form, and "Label next article" / "Submit and next" with overlap k."""

import pytest
from django.test import Client
from django.urls import reverse

from annotator.labelling.models import Annotation, Change
from tests.factories import ArticleFactory, make_project

from .conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def other_client(analysts):
    """A second browser, logged in as another analyst of the project."""
    other = Client()
    other.force_login(analysts[0])
    return other


def skip_url(project, article):
    return reverse("article_skip", args=[project.id, article.id])


def page_url(project, article):
    return reverse("label_article", args=[project.id, article.id])


def annotations():
    return list(
        Annotation.objects.order_by("id").values_list("article_id", "annotator__username", "status", "skip_reason")
    )


class TestSkipForm:
    def test_the_labelling_page_has_a_labelled_skip_form_above_submit(self, analyst_client, project, article):
        content = analyst_client.get(page_url(project, article)).text
        url = skip_url(project, article)
        form = f'<form id="skip-article" class="panel stack" hx-post="{url}" method="post" action="{url}">'
        assert form in content
        assert '<label for="skip-reason">Why skip this article?</label>' in content
        textarea = '<textarea id="skip-reason" name="reason" rows="2" maxlength="500" required dir="auto"></textarea>'
        assert textarea in content
        # Submit comes first, beside the labels, so it is on screen without scrolling.
        assert content.index('id="submit-next"') < content.index('id="skip-article"')


class TestArticleSkip:
    def test_htmx_skip_records_the_reason_and_sends_the_browser_to_the_next_article(
        self, analyst_client, project, analyst
    ):
        first, second = ArticleFactory.create_batch(2, project=project)
        analyst_client.get(reverse("next_article", args=[project.id]))  # claims the first

        response = analyst_client.post(skip_url(project, first), {"reason": "  Not about politics  "}, headers=HTMX)

        assert response.status_code == 200
        assert response["HX-Redirect"] == page_url(project, second)
        assert annotations() == [
            (first.id, "analyst", "skipped", "Not about politics"),
            (second.id, "analyst", "in_progress", ""),  # the next one is claimed
        ]
        change = Change.objects.get(action="skip")
        assert (change.actor, change.reason, change.after) == (analyst, "Not about politics", {"status": "skipped"})

    def test_plain_skip_redirects_to_the_next_article(self, analyst_client, project):
        first, second = ArticleFactory.create_batch(2, project=project)
        response = analyst_client.post(skip_url(project, first), {"reason": "Duplicate"})
        assert response.status_code == 302
        assert response["Location"] == page_url(project, second)
        assert annotations() == [
            (first.id, "analyst", "skipped", "Duplicate"),
            (second.id, "analyst", "in_progress", ""),
        ]

    def test_skipping_the_last_article_goes_to_all_done(self, analyst_client, project, article):
        for headers in (HTMX, {}):
            response = analyst_client.post(skip_url(project, article), {"reason": "Paywalled"}, headers=headers)
            target = response["HX-Redirect"] if headers else response["Location"]
            assert target == reverse("next_article", args=[project.id])
        assert "<h1>Nothing left for you</h1>" in analyst_client.get(target).text

    @pytest.mark.parametrize("reason", ["", "   \n "])
    def test_htmx_skip_without_a_reason_is_refused_with_a_message(self, analyst_client, project, article, reason):
        response = analyst_client.post(skip_url(project, article), {"reason": reason}, headers=HTMX)
        assert response.status_code == 422
        assert response.text == "Say why you skip this article."
        assert "HX-Redirect" not in response
        assert annotations() == []  # an untouched article stays untouched

    def test_plain_skip_without_a_reason_goes_back_to_the_article_with_a_message(
        self, analyst_client, project, article, analyst
    ):
        Annotation.objects.create(article=article, annotator=analyst)
        response = analyst_client.post(skip_url(project, article), {})
        assert response.status_code == 302
        assert response["Location"] == page_url(project, article)
        page = analyst_client.get(response["Location"]).text
        assert '<li class="message error">Say why you skip this article.</li>' in page
        assert annotations() == [(article.id, "analyst", "in_progress", "")]

    def test_a_skip_gives_the_slot_to_another_analyst(self, other_client, analyst_client, project, article):
        analyst_client.get(reverse("next_article", args=[project.id]))
        assert "<h1>Nothing left for you</h1>" in other_client.get(reverse("next_article", args=[project.id])).text

        analyst_client.post(skip_url(project, article), {"reason": "Not news"})

        response = other_client.get(reverse("next_article", args=[project.id]))
        assert response.status_code == 302 and response["Location"] == page_url(project, article)

    def test_non_member_gets_404_and_changes_nothing(self, client, other_user, project, article):
        client.force_login(other_user)
        for headers in ({}, HTMX):
            assert client.post(skip_url(project, article), {"reason": "x"}, headers=headers).status_code == 404
        assert annotations() == []

    def test_article_of_another_project_is_404(self, analyst_client, project, analyst):
        elsewhere = ArticleFactory(project=make_project(name="Other", analyst=analyst))
        url = reverse("article_skip", args=[project.id, elsewhere.id])
        assert analyst_client.post(url, {"reason": "x"}).status_code == 404
        assert annotations() == []

    def test_anonymous(self, client, project, article):
        response = client.post(skip_url(project, article), {"reason": "x"})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert client.post(skip_url(project, article), {"reason": "x"}, headers=HTMX).status_code == 401
        assert annotations() == []

    def test_get_is_405(self, analyst_client, project, article):
        assert analyst_client.get(skip_url(project, article)).status_code == 405


class TestNextAndSubmitWithOverlap:
    def test_label_next_article_claims_and_returns_the_same_article_until_it_is_done(
        self, analyst_client, project, analyst
    ):
        first, second = ArticleFactory.create_batch(2, project=project)
        for headers in ({}, HTMX, {}):
            response = analyst_client.get(reverse("next_article", args=[project.id]), headers=headers)
            assert response.status_code == 302 and response["Location"] == page_url(project, first)
        assert annotations() == [(first.id, "analyst", "in_progress", "")]

    def test_submit_and_next_skips_articles_other_analysts_fill(self, other_client, analyst_client, project):
        first, second, third = ArticleFactory.create_batch(3, project=project)
        analyst_client.get(reverse("next_article", args=[project.id]))
        other_client.get(reverse("next_article", args=[project.id]))  # takes the second

        response = analyst_client.post(reverse("article_submit", args=[project.id, first.id]), headers=HTMX)

        assert response["HX-Redirect"] == page_url(project, third)
        assert annotations() == [
            (first.id, "analyst", "submitted", ""),
            (second.id, "analyst-1", "in_progress", ""),
            (third.id, "analyst", "in_progress", ""),
        ]

    def test_with_overlap_two_both_analysts_get_the_same_first_article(
        self, other_client, analyst_client, project, analysts
    ):
        project.overlap = 2
        project.save()
        first, second = ArticleFactory.create_batch(2, project=project)
        assert analyst_client.get(reverse("next_article", args=[project.id]))["Location"] == page_url(project, first)
        assert other_client.get(reverse("next_article", args=[project.id]))["Location"] == page_url(project, first)
        third_client = Client()
        third_client.force_login(analysts[1])
        assert third_client.get(reverse("next_article", args=[project.id]))["Location"] == page_url(project, second)

    def test_an_article_taken_by_k_analysts_cannot_be_started_by_its_url(self, other_client, analyst_client, project):
        (only,) = ArticleFactory.create_batch(1, project=project)
        other_client.get(reverse("next_article", args=[project.id]))  # k = 1: the slot is taken
        page = analyst_client.get(page_url(project, only)).text
        assert "This article already has 1 analyst (as many as the project asks for), so you cannot start it." in page
        assert 'id="submit-next"' not in page and 'class="label-button' not in page

        response = analyst_client.post(reverse("article_submit", args=[project.id, only.id]), headers=HTMX)
        assert response.status_code == 422 and "already has 1 analyst" in response.text
        response = analyst_client.post(
            reverse("span_create", args=[project.id, only.id]),
            {"label": project.span_labels.first().id, "start": 0, "end": 3, "text": only.text[:3],
             "client_id": "6f1c3b8e-2a55-4a8e-9a57-0c0f3f3a7d21"},
            headers=HTMX,
        )
        assert response.status_code == 422
        labels = analyst_client.post(reverse("document_labels", args=[project.id, only.id]),
                                     {"topics": [project.topics.first().id]}, headers=HTMX)
        assert labels.status_code == 422
        assert not Annotation.objects.filter(annotator__username="analyst").exists()

    def test_a_skip_gives_the_slot_back_to_an_analyst_who_opens_the_article_by_url(
        self, other_client, analyst_client, project, analysts
    ):
        (only,) = ArticleFactory.create_batch(1, project=project)
        other_client.get(reverse("next_article", args=[project.id]))
        other_client.post(skip_url(project, only), {"reason": "Not news."})
        response = analyst_client.post(reverse("article_submit", args=[project.id, only.id]))
        assert response.status_code == 302
        assert Annotation.objects.get(annotator__username="analyst").status == "submitted"
