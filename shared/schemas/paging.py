"""Moved to shared/paging.py (one paging scheme for every Apollo list); this name stays only
until the schema service's modules import it from there."""

from shared.paging import PageRequest, binding_of, page_request, page_size

__all__ = ["PageRequest", "binding_of", "page_request", "page_size"]
