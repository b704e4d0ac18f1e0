"""The ER service's SQL, one module per group of tables: ``writes`` (items and staged batches),
``collections`` (collections and their grants), ``reads``, ``deletes``, ``files``, ``failed``."""
