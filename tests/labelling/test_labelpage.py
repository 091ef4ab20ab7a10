"""The labelling page without dead ends (issue #14): one span per label key, a deletion that can be
undone, an editor that says it saved, submitted and reviewed articles, full articles, reserved keys."""

import re
import uuid
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotator.labelling import services
from annotator.labelling.assignment import assignment_next
from annotator.labelling.models import Annotation, Change, Relation, Span
from annotator.projects.models import Membership, SpanLabel
from tests.concurrency import all_at_once
from tests.factories import ArticleFactory, UserFactory, make_project

from .helpers import mark

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
QUOTE = "the West is trying to pull Armenia away"


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


def page_url(article):
    return reverse("label_article", args=[article.project_id, article.id])


def create(client, article, label, phrase, client_id=None, **extra):
    start = article.text.index(phrase)
    data = {"label": label.id, "start": start, "end": start + len(phrase), "text": phrase,
            "client_id": str(client_id or uuid.uuid4()), **extra}
    return client.post(reverse("span_create", args=[article.project_id, article.id]), data, headers=HTMX)


def mark_reviewed(article, reviewer):
    """What `review.services.gold_mark_reviewed` leaves: the article's gold annotation, submitted."""
    return Annotation.objects.create(article=article, annotator=reviewer, kind=Annotation.Kind.GOLD,
                                     status=Annotation.Status.SUBMITTED)


class TestOneSpanPerLabelKey:
    def test_the_same_label_on_the_same_text_twice_is_one_span(self, quote_article, analyst, labels):
        first = mark(quote_article, analyst, labels["Quote"], QUOTE)
        again = mark(quote_article, analyst, labels["Quote"], QUOTE)  # another change id
        assert again.pk == first.pk
        assert Span.objects.count() == 1
        assert Change.objects.filter(action="create", subject="span").count() == 1

    def test_another_label_or_other_offsets_are_other_spans(self, quote_article, analyst, labels):
        mark(quote_article, analyst, labels["Quote"], QUOTE)
        mark(quote_article, analyst, labels["Claim"], QUOTE)
        mark(quote_article, analyst, labels["Quote"], QUOTE[:-1])
        assert Span.objects.count() == 3

    def test_two_key_presses_through_the_page_make_one_span(self, analyst_client, quote_article, labels):
        first = create(analyst_client, quote_article, labels["Quote"], QUOTE)
        second = create(analyst_client, quote_article, labels["Quote"], QUOTE)
        assert first.status_code == second.status_code == 201
        [span] = Span.objects.all()
        # The second answer opens the same span and changes nothing on the page.
        assert f'data-span="{span.id}"' in second.text
        assert second["X-Annotation-Base"] == second["X-Annotation-Version"]


class TestEditorSaysWhatItDid:
    def test_saving_a_span_says_so(self, analyst_client, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        response = analyst_client.post(
            reverse("span_update", args=[quote_article.project_id, quote_article.id, span.id]),
            {"label": labels["Quote"].id, "attr-speaker": "Lavrov"}, headers=HTMX,
        )
        assert response.status_code == 200
        notice = re.search(r'<div id="span-notice"[^>]*hx-swap-oob="innerHTML">(.*?)</div>', response.text, re.S)
        assert notice and re.search(r"<p>Saved the Quote span at \d\d:\d\d:\d\d\.</p>", notice.group(1))

    def test_opening_another_span_clears_the_notice(self, analyst_client, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        response = analyst_client.get(
            reverse("span_edit", args=[quote_article.project_id, quote_article.id, span.id]), headers=HTMX
        )
        assert '<div id="span-notice" class="span-notice" role="status" hx-swap-oob="innerHTML"></div>' in response.text

    def test_linking_says_what_was_linked(self, analyst_client, quote_article, analyst, labels, relation_types):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        response = analyst_client.post(
            reverse("relation_create", args=[quote_article.project_id, quote_article.id]),
            {"type": relation_types["speaker"].id, "source": quote.id, "target": source.id}, headers=HTMX,
        )
        assert "<p>Linked: speaker → “<bdi>Lavrov</bdi>”.</p>" in unescape(response.text)
        assert 'id="span-links" tabindex="-1"' in response.text  # where the page puts the focus


class TestUndoDelete:
    def delete(self, client, span):
        article = span.annotation.article
        return client.post(reverse("span_delete", args=[article.project_id, article.id, span.id]), headers=HTMX)

    def undo_fields(self, answer: str) -> dict:
        """The Undo form's URL and fields (a field sent more than once, `link`, as a list)."""
        form = re.search(r'<form class="undo" hx-post="([^"]+)".*?</form>', answer, re.S)
        assert form, "the deletion's answer offers Undo"
        fields = {}
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)):
            if name == "link":
                fields.setdefault("link", []).append(unescape(value))
            elif name != "csrfmiddlewaretoken":
                fields[name] = unescape(value)
        return {"url": form.group(1), **fields}

    def test_the_deletion_answer_offers_undo_which_brings_the_span_back(
        self, analyst_client, quote_article, analyst, labels
    ):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.span_update(span=span, label=labels["Quote"], attributes={"speaker": "Sergei “Lavrov”"})
        answer = self.delete(analyst_client, span)
        assert answer.status_code == 200
        assert "Deleted the <bdi>Quote</bdi> span “<bdi>the West is trying to pull Armenia away</bdi>”." in unescape(answer.text)
        fields = self.undo_fields(answer.text)
        assert not Span.objects.exists()

        url = fields.pop("url")
        for _ in range(2):  # a retried Undo (its answer lost) brings it back once
            assert analyst_client.post(url, fields, headers=HTMX).status_code == 201
        [back] = Span.objects.all()
        assert (back.label, back.start, back.end, back.text) == (labels["Quote"], span.start, span.end, QUOTE)
        assert back.attributes == {"speaker": "Sergei “Lavrov”"}

    def linked(self, article, analyst, labels, relation_types):
        """A quote linked to its speaker, and a claim whose source is the same speaker."""
        quote = mark(article, analyst, labels["Quote"], QUOTE)
        claim = mark(article, analyst, labels["Claim"], "The ministry repeated the claim")
        source = mark(article, analyst, labels["Source"], "Lavrov")
        services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        services.relation_create(relation_type=relation_types["source"], source=claim, target=source)
        return quote, claim, source

    def links(self):
        return set(Relation.objects.values_list("type__name", "source__text", "target__text"))

    def test_undo_brings_back_the_links_of_a_span_at_either_end(
        self, analyst_client, quote_article, analyst, labels, relation_types
    ):
        quote, claim, source = self.linked(quote_article, analyst, labels, relation_types)
        links = self.links()
        assert len(links) == 2
        answer = self.delete(analyst_client, source)  # the target of both links
        assert "Deleted the <bdi>Source</bdi> span “<bdi>Lavrov</bdi>” and its 2 links." in unescape(answer.text)
        assert not Relation.objects.exists()
        fields = self.undo_fields(answer.text)
        url = fields.pop("url")
        for _ in range(2):  # a retried Undo (its answer lost) brings them back once
            back = analyst_client.post(url, fields, headers=HTMX)
            assert back.status_code == 201
        assert self.links() == links
        assert Relation.objects.count() == 2
        quote_again = Span.objects.get(label__name="Quote")
        answer = self.delete(analyst_client, quote_again)  # the source of one link
        assert "and its 1 link." in unescape(answer.text)
        fields = self.undo_fields(answer.text)
        back = analyst_client.post(fields.pop("url"), fields, headers=HTMX)
        assert back.status_code == 201
        assert self.links() == links
        # The editor opened on the quote brought back lists its link.
        assert re.search(r'speaker → <span dir="auto">Lavrov</span>', back.text)

    def test_undo_says_which_links_cannot_come_back(
        self, analyst_client, quote_article, analyst, labels, relation_types
    ):
        quote, claim, source = self.linked(quote_article, analyst, labels, relation_types)
        answer = self.delete(analyst_client, source)
        fields = self.undo_fields(answer.text)
        self.delete(analyst_client, claim)  # the other end of one of its links, deleted since
        back = analyst_client.post(fields.pop("url"), fields, headers=HTMX)
        assert back.status_code == 201
        assert self.links() == {("speaker", QUOTE, "Lavrov")}
        assert ("Brought the <bdi>Source</bdi> span back, but 1 of its 2 links could not come back: the span at the "
                "other end was deleted since.") in back.text

    def test_a_malformed_link_is_refused_and_nothing_is_saved(self, analyst_client, quote_article, labels):
        answer = create(analyst_client, quote_article, labels["Quote"], QUOTE, link="speaker:1:2")
        assert answer.status_code == 400
        assert not Span.objects.exists()


class TestSubmittedAndReviewed:
    def test_a_submitted_article_reopens_for_editing_with_a_notice(self, analyst_client, quote_article, analyst, labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.annotation_submit(annotation=span.annotation)
        page = analyst_client.get(page_url(quote_article)).text
        assert "You submitted this article on " in page
        assert "It is open for editing: every change is saved at once into your submitted annotation" in page
        assert 'id="submit-next"' in page and 'class="label-button' in page

        assert create(analyst_client, quote_article, labels["Source"], "Lavrov").status_code == 201
        annotation = Annotation.objects.get(annotator=analyst)
        assert annotation.status == "submitted" and annotation.spans.count() == 2

    def test_a_page_in_progress_has_no_notice(self, analyst_client, quote_article, analyst, labels):
        mark(quote_article, analyst, labels["Quote"], QUOTE)
        assert 'id="standing"' not in analyst_client.get(page_url(quote_article)).text

    def test_a_reviewed_article_is_read_only_on_the_page(self, analyst_client, quote_article, analyst, admin_user,
                                                         labels):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        services.annotation_submit(annotation=span.annotation)
        mark_reviewed(quote_article, admin_user)
        page = analyst_client.get(page_url(quote_article)).text
        assert "A reviewer has marked this article reviewed, so your annotation of it is read-only" in page
        for offered in ('class="label-button', 'id="submit-next"', 'id="skip-article"', 'id="selection-menu"'):
            assert offered not in page
        assert '<fieldset id="topics-fieldset" disabled>' in page and '<fieldset id="stance-fieldset" disabled>' in page
        editor = analyst_client.get(
            reverse("span_edit", args=[quote_article.project_id, quote_article.id, span.id]), headers=HTMX
        ).text
        assert "Save span" not in editor and "Delete span" not in editor and "Quote" in editor

    def test_every_change_to_a_reviewed_analyst_annotation_is_refused(
        self, quote_article, analyst, admin_user, labels, relation_types
    ):
        quote = mark(quote_article, analyst, labels["Quote"], QUOTE)
        source = mark(quote_article, analyst, labels["Source"], "Lavrov")
        link = services.relation_create(relation_type=relation_types["speaker"], source=quote, target=source)
        annotation = services.annotation_submit(annotation=quote.annotation)
        mark_reviewed(quote_article, admin_user)
        project = quote_article.project
        changes = {
            "span_create": lambda: mark(quote_article, analyst, labels["Claim"], "repeated the claim"),
            "span_update": lambda: services.span_update(span=quote, label=labels["Claim"], attributes={}),
            "span_delete": lambda: services.span_delete(span=source),
            "relation_create": lambda: services.relation_create(
                relation_type=relation_types["speaker"], source=quote, target=source
            ),
            "relation_delete": lambda: services.relation_delete(relation=link),
            "labels": lambda: services.analyst_labels_set(
                article=quote_article, annotator=analyst, topic_ids=[project.topics.first().id], stances={}
            ),
            "submit": lambda: services.annotation_submit(annotation=annotation),
            "skip": lambda: services.annotation_skip(annotation=annotation, reason="Too late."),
        }
        before = Change.objects.count()
        for name, change in changes.items():
            with pytest.raises(ValidationError) as refused:
                change()
            assert refused.value.code == "reviewed", name
        assert Change.objects.count() == before
        assert Span.objects.count() == 2 and Relation.objects.count() == 1

    def test_the_page_answers_a_change_to_a_reviewed_article_with_the_reason(
        self, analyst_client, quote_article, analyst, admin_user, labels
    ):
        span = mark(quote_article, analyst, labels["Quote"], QUOTE)
        mark_reviewed(quote_article, admin_user)
        response = create(analyst_client, quote_article, labels["Source"], "Lavrov")
        assert response.status_code == 422 and "marked this article reviewed" in response.text
        response = analyst_client.post(
            reverse("span_delete", args=[quote_article.project_id, quote_article.id, span.id]), headers=HTMX
        )
        assert response.status_code == 422
        response = analyst_client.post(reverse("article_submit", args=[quote_article.project_id, quote_article.id]))
        assert response.status_code == 302 and response["Location"] == page_url(quote_article)
        assert Span.objects.count() == 1 and Annotation.objects.get(annotator=analyst).status == "in_progress"

    def test_gold_and_other_articles_stay_editable(self, quote_article, project, analyst, admin_user, labels):
        gold = mark_reviewed(quote_article, admin_user)
        gold.article = quote_article
        start = quote_article.text.index("Lavrov")
        services.span_add(annotation=gold, actor=admin_user, label=labels["Source"], start=start, end=start + 6,
                          text="Lavrov")
        other = ArticleFactory(project=project, text="Lavrov spoke.")
        mark(other, analyst, labels["Source"], "Lavrov")
        assert Span.objects.count() == 2


class TestFullArticles:
    @pytest.fixture
    def taken(self, project, quote_article):
        """The article's one slot (k = 1) is another analyst's."""
        other = UserFactory(username="first")
        Membership.objects.create(project=project, user=other, role=Membership.Role.ANALYST)
        assert assignment_next(project=project, user=other) == quote_article
        return quote_article

    def test_the_project_list_says_why_a_full_article_cannot_be_started(self, analyst_client, project, taken):
        free = ArticleFactory(project=project, title="Still free")
        page = analyst_client.get(reverse("project_detail", args=[project.id])).text
        assert page_url(taken) not in page
        assert "Full: 1 analyst already on it (the project asks for 1)" in page
        assert f'href="{page_url(free)}"' in page

    def test_the_list_offers_it_again_when_k_grows_or_to_those_on_it(self, analyst_client, client, project, taken):
        project.overlap = 2
        project.save()
        assert page_url(taken) in analyst_client.get(reverse("project_detail", args=[project.id])).text
        assert create(analyst_client, taken, project.span_labels.get(name="Quote"), QUOTE).status_code == 201

    def test_its_page_cannot_start_it(self, analyst_client, project, taken, labels):
        page = analyst_client.get(page_url(taken)).text
        assert "so you cannot start it." in page and 'class="label-button' not in page
        response = create(analyst_client, taken, labels["Quote"], QUOTE)
        assert response.status_code == 422 and "already has 1 analyst" in response.text
        assert not Annotation.objects.filter(annotator__username="analyst").exists()

    def test_an_analyst_already_on_it_keeps_labelling(self, client, project, taken, labels):
        client.force_login(Membership.objects.get(user__username="first").user)
        assert create(client, taken, labels["Quote"], QUOTE).status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_opening_by_url_and_label_next_at_once_never_make_k_plus_one(round_):
    """Analysts starting the one article from its page while others ask for their next article,
    all at the same moment: the article ends with exactly k = 2 analysts."""
    project = make_project(name="Race")
    project.overlap = 2
    project.save()
    article = ArticleFactory(project=project)
    users = [UserFactory(username=f"racer{n}") for n in range(6)]
    Membership.objects.bulk_create(Membership(project=project, user=u, role="analyst") for u in users)
    refused = []

    def work(numbered):
        n, user = numbered
        if n % 2 == 0:  # by URL
            try:
                with services.annotation_claim(article=article, annotator=user):
                    pass
            except ValidationError as error:
                refused.append(error.code)
        else:
            assignment_next(project=project, user=user)

    assert all_at_once(work, list(enumerate(users))) == []
    assert Annotation.objects.filter(article=article, kind="analyst").count() == 2
    assert set(refused) <= {"full"}


class TestReservedHotkeys:
    @pytest.mark.parametrize("key, use", [("r", "retry changes that were not saved"), ("?", "keyboard help")])
    def test_a_reserved_key_is_refused_naming_the_clash(self, project, key, use):
        label = SpanLabel(project=project, name="Rumour", colour="#123456", hotkey=key)
        with pytest.raises(ValidationError) as refused:
            label.full_clean()
        assert f"“{key}” is the labelling page's own key for {use}: choose another key for this label." in (
            refused.value.message_dict["hotkey"]
        )

    def test_a_free_key_is_taken(self, project):
        SpanLabel(project=project, name="Rumour", colour="#123456", hotkey="u").full_clean()

    def test_the_admin_refuses_it_with_the_message(self, client, project):
        root = UserFactory(username="root")
        root.is_staff = root.is_superuser = True
        root.save()
        client.force_login(root)
        response = client.post(
            reverse("admin:projects_spanlabel_add"),
            {"project": project.pk, "name": "Rumour", "colour": "#123456", "hotkey": "r", "order": 0,
             "attributes-TOTAL_FORMS": 0, "attributes-INITIAL_FORMS": 0},
        )
        assert response.status_code == 200
        assert "is the labelling page&#x27;s own key for retry changes that were not saved" in response.text
        assert not SpanLabel.objects.filter(name="Rumour").exists()
