"""Apollo schema service: schema collections, type schemas, releases and sync."""
