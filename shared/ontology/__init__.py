"""The Apollo ontology service: a schema collection's ontology graph (docs/apollo-ontology.md)."""
