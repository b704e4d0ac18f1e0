"""Apollo ER service: ER collections and their access lists, entity and relationship batch
upserts (validated against the bound schema collection), and reads."""
