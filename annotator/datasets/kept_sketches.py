"""An article's near-duplicate sketch kept from one snapshot for the next (`ArticleSketch`).

A snapshot's select sketches every selected article's text for the near-duplicate grouping
(`splits.NearDuplicates`: a MinHash signature and containment samples of its word 5-grams),
about a tenth of the select's time. An article's text never changes, so its sketch is the same
in every snapshot while `splits.SKETCH_VERSION` is: the select reads the kept sketches of a batch
of records at a time (`read`), sketches the others and keeps theirs (`save`), as the token
formats keep tokens (`kept`). The grouping, and so every file, is the same either way.
"""

from annotator import bulk

from .models import ArticleSketch
from .splits import SKETCH_VERSION


class KeptSketches:
    """The kept sketches of a batch of records."""

    def __init__(self):
        self.kept: dict[int, bytes] = {}

    def read(self, article_ids: list[int]) -> None:
        """Read the kept sketches of these articles (one query)."""
        rows = ArticleSketch.objects.filter(article_id__in=article_ids, version=SKETCH_VERSION)
        self.kept = {article: bytes(sketch) for article, sketch in rows.values_list("article_id", "sketch")}

    def sketch(self, article_id: int) -> bytes | None:
        return self.kept.get(article_id)

    @staticmethod
    def save(made: list[tuple[int, bytes]]) -> None:
        """Keep these (article id, sketch), `NearDuplicates.made`, in place of any kept before."""
        bulk.keep(ArticleSketch, ["article_id", "version", "sketch"], [(a, SKETCH_VERSION, s) for a, s in made], "sketches")
