import factory
from django.contrib.auth import get_user_model

from annotator.corpus.models import Article
from annotator.corpus.text import normalise, sha256
from annotator.projects.models import Membership
from annotator.projects.services import project_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_project(name="Test project", **members):
    """A project with the default schema; `members` maps a role to a user or list of users."""
    project = project_create(name=name)
    for role, users in members.items():
        for user in users if isinstance(users, list | tuple) else [users]:
            Membership.objects.create(project=project, user=user, role=role)
    return project


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    text = factory.Sequence(lambda n: f"Lavrov said “the West is trying” on day {n}.\nSecond paragraph.")
    sha256 = factory.LazyAttribute(lambda a: sha256(a.text))
    language = "en"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["text"] = normalise(kwargs["text"])
        kwargs["sha256"] = sha256(kwargs["text"])
        return super()._create(model_class, *args, **kwargs)
