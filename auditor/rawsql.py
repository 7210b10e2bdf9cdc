"""Hand-written SQL for the review path, which runs on every answer an annotator gives.

Building a statement with the ORM costs about half a millisecond of Python, more than PostgreSQL takes to run
it, and an answer with the next question is a dozen statements. So that path writes its SQL by hand, with these
helpers keeping it honest: column lists come from the models, values go in through each field's own
`get_db_prep_save`, and rows come back as model instances through the same converters the ORM applies (SQLite's
0/1 booleans and text timestamps, JSON), so the rest of the code sees ordinary instances.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


def _connection() -> BaseDatabaseWrapper:
    return connections[DEFAULT_DB_ALIAS]


def quote(name: str | None) -> str:
    """A table or column name quoted for the database (`name` is never None for a concrete field)."""
    if name is None:
        raise ValueError("no name to quote")
    return _connection().ops.quote_name(name)


def concrete_field(model: type[Model], name: str) -> Field:
    """The model's field `name` that has a column (not a reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model._meta.label}.{name} has no column")
    return field


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def columns(model: type[Model], alias: str) -> str:
    """Every column of `model`, in field order, as `alias."column"` (what `from_row` reads back)."""
    return _columns(model, alias, _connection().vendor)


@lru_cache(maxsize=256)
def _columns(model: type[Model], alias: str, vendor: str) -> str:
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


@lru_cache(maxsize=256)
def _converters(model: type[Model], connection: BaseDatabaseWrapper) -> list[tuple[Any, list[Converter]]]:
    """Per column: the expression and the converters the ORM would run on its value (cached per connection)."""
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        result.append((column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
    return result


def from_row(model: type[M], values: Sequence[Any]) -> M:
    """A `model` instance from a row holding all its columns in the order `columns` lists them."""
    connection = _connection()
    converted = []
    for value, (column, converters) in zip(values, _converters(model, connection), strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], converted)


def _prepared(field: Field, value: Any) -> Any:
    return field.get_db_prep_save(value, _connection())


def _insert(model: type[Model], values: dict[str, Any]) -> tuple[str, list[Any]]:
    """`INSERT INTO … VALUES …` for one row of every column but the primary key, and its prepared parameters;
    defaults filled into `values`."""
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    for field in fields:
        if field.attname not in values:
            if not field.has_default() and not field.null:
                raise TypeError(f"{meta.label}.{field.attname}: no value and no default")
            values[field.attname] = field.get_default() if field.has_default() else None
    unknown = set(values) - {field.attname for field in fields}
    if unknown:
        raise TypeError(f"{meta.label}: no fields {', '.join(sorted(unknown))}")
    names = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {table(model)} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
    return sql, [_prepared(field, values[field.attname]) for field in fields]


def insert(cursor: CursorWrapper, model: type[M], **values: Any) -> M:
    """Insert one row (fields by attname, e.g. `item_id`; every field without a default must be given) and
    return it as an instance. Timestamps are not filled in: pass them."""
    sql, params = _insert(model, values)
    pk = model._meta.pk
    connection = _connection()
    if connection.features.can_return_columns_from_insert:
        cursor.execute(f"{sql} RETURNING {quote(pk.column)}", params)
        pk_value = cursor.fetchone()[0]
    else:
        cursor.execute(sql, params)
        pk_value = connection.ops.last_insert_id(cursor, model._meta.db_table, str(pk.column))
    values[pk.attname] = pk_value
    return stored(model, **values)


def stored(model: type[M], **values: Any) -> M:
    """The instance of a row just written, from the Python values written (every field, by attname)."""
    fields = model._meta.concrete_fields
    return model.from_db(_connection().alias, [f.attname for f in fields], [values[f.attname] for f in fields])


def insert_if_absent(cursor: CursorWrapper, model: type[Model], unique: Sequence[str], **values: Any) -> bool:
    """Insert one row unless a row with the same values of the `unique` fields (a unique constraint) exists;
    whether it did. A row being inserted by another transaction is waited for. Fields as in `insert`."""
    sql, params = _insert(model, values)
    target = ", ".join(quote(concrete_field(model, name).column) for name in unique)
    cursor.execute(f"{sql} ON CONFLICT ({target}) DO NOTHING RETURNING {quote(model._meta.pk.column)}", params)
    return cursor.fetchone() is not None


def update(cursor: CursorWrapper, instance: Model, fields: Sequence[str]) -> None:
    """Write the instance's current values of `fields` (attnames) to its row, like save(update_fields=…)."""
    meta = instance._meta
    chosen = [concrete_field(type(instance), name) for name in fields]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in chosen)
    params = [_prepared(field, getattr(instance, field.attname)) for field in chosen] + [instance.pk]
    cursor.execute(f"UPDATE {table(type(instance))} SET {assignments} WHERE {quote(meta.pk.column)} = %s", params)
