import pytest

from annotator.suggestions.services import suggestions_compute
from tests.factories import ArticleFactory

TEXT = (
    "“We are ready to talk with the West,” said Foreign Minister Sergei Lavrov in Yerevan.\n"
    "According to TASS, the talks on Armenia failed. Lavrov said: “Nobody listens to us anymore.”\n"
    "وقال لافروف إن «روسيا مستعدة للحوار مع الغرب»."
)


@pytest.fixture
def suggested(project):
    """An article of the project with its rule suggestions computed (as the worker does after an import)."""
    article = ArticleFactory(project=project, text=TEXT, title="Talks")
    suggestions_compute(article=article)
    return article
