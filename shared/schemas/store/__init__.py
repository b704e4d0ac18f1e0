"""SQL of the schema service, one module per group of tables, each with typed functions over it.

- ``collections``: schema collections and the tombstones of deleted ones;
- ``grants``: who holds which role on a collection;
- ``typeschemas``: type schemas one type at a time, and the writes of a sync or bulk post;
- ``lists``: paged lists of type schemas;
- ``hierarchy``: posted entity-type hierarchies;
- ``samples``: sample objects of type schemas.

Callers import a module as ``<module>_store`` (``from shared.schemas.store import
collections as collections_store``), since the service modules bear the same names.
"""
