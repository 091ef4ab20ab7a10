"""Writing many rows in one go: COPY on PostgreSQL, `bulk_create` elsewhere.

COPY sends the rows as one stream instead of INSERT statements with a parameter a value, which
Django builds and psycopg binds one by one: 10,000 articles of 4,000 characters take 0.8 s
instead of 2.1 s. The rows are checked by the same constraints; a failure raises Django's
`IntegrityError` (or `DataError`), as `bulk_create` would. Callers inside `transaction.atomic`
keep their all-or-nothing.
"""

import contextlib
import gc
import json
import logging

import orjson
from django.db import DatabaseError, IntegrityError, connection, models, transaction

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector off for a block (`with collector_paused():`) or a function
    (`@collector_paused()`), back as it was after.

    For work that makes many objects and few or no reference cycles: an import holding every
    document it read (10k articles: 400,000 spans) while it makes the rows, a chunk of snapshot
    records (20,000 span dicts), or a batch of them written. Each full collection walked them all
    again: about a tenth of an import's time and 15 % of the records' reading (`docs/performance.md`).
    What the block made is collected as usual once the collector is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reserve(model: type[models.Model], count: int) -> list[int]:
    """`count` ids for new rows of `model`, ascending, to write with the rows (the primary key in `fields`).

    On PostgreSQL they come from the table's sequence, as `bulk_create` would take them. SQLite
    has no sequence: the ids follow the largest; SQLite lets one connection write at a time, so
    another that took them first makes the insert fail (IntegrityError), never write over a row.
    """
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(f"SELECT max({quote(column)}) FROM {quote(table)}")
            last = cursor.fetchone()[0] or 0
            return list(range(last + 1, last + 1 + count))
        # The sequence is looked up once: as an argument of nextval, pg_get_serial_sequence
        # would be called for every row, a catalog lookup each (8x the time).
        cursor.execute(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS sequence)"
            " SELECT nextval(s.sequence) FROM s, generate_series(1, %s)",
            [quote(table), column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def insert(model: type[models.Model], fields: list[str], rows: list[tuple], *, returning: bool = False) -> list[int]:
    """Insert rows (values in `fields` order, by attribute name); with `returning`, their new ids in order.

    Give every column: COPY fills in no model default. With `returning`, the ids are reserved
    first (`reserve`). Values go as psycopg writes them, JSON fields as JSON.
    """
    if not rows:
        return []
    if returning:
        ids = reserve(model, len(rows))
        insert(model, [model._meta.pk.attname, *fields], [(pk, *row) for pk, row in zip(ids, rows)])
        return ids
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(fields, row))) for row in rows])
        return []
    columns = {f.attname: f for f in model._meta.concrete_fields}
    as_json = [isinstance(columns[name], models.JSONField) for name in fields]
    quote = connection.ops.quote_name
    # wrap_database_errors: COPY is psycopg's own call, so its errors come as Django's too.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        names = ", ".join(quote(columns[name].column) for name in fields)
        with cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_json(v) if j and v is not None else v for v, j in zip(row, as_json)] if any(as_json) else row)
    return []


def keep(model: type[models.Model], fields: list[str], rows: list[tuple], what: str) -> None:
    """Rows of a per-article cache that snapshots keep for the next (kept tokens, kept sketches;
    the first field is the article, the key) in place of any kept for the same articles, in one
    transaction (`insert`). A cache is never worth failing the work that fills it: if the rows
    cannot be written (another task kept the same articles' at the same moment, say), it is
    logged as `what` and the caller goes on without."""
    if not rows:
        return
    try:
        with transaction.atomic():
            model.objects.filter(pk__in=[row[0] for row in rows]).delete()
            insert(model, fields, rows)
    except IntegrityError:
        logger.info("The %s of some of %d articles were kept by another task meanwhile.", what, len(rows))
    except DatabaseError:
        logger.warning("Could not keep the %s of %d articles for the next snapshot.", what, len(rows), exc_info=True)


def create(objects: list[models.Model]) -> list[models.Model]:
    """`bulk_create` for new objects of one model, through `insert`: each gets its id, as there."""
    if not objects:
        return objects
    model = type(objects[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # pre_save, as bulk_create calls it: `auto_now_add` and the like fill themselves in.
    rows = [tuple(field.pre_save(obj, True) for field in fields) for obj in objects]
    ids = insert(model, [field.attname for field in fields], rows, returning=True)
    for obj, pk in zip(objects, ids):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def _json(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses and Django's JSONField writes (an integer beyond 64 bits).
        return json.dumps(value)
