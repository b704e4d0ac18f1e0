"""Graph reads over the ER store: the Apollo graph pages' query forms, expansions as recursive
queries, transitive reachability, and the search-query routes, all answered from PostgreSQL."""
