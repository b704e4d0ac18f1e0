"""A read-only SPARQL endpoint per ER collection, over an embedded pyoxigraph store kept in
step with the ER store by the change feed."""
