"""Global search: one box over every entity that registers a search provider.

Finds Chinese names by any substring of two or more characters, by full pinyin and by pinyin initials,
phone numbers however they are typed, and e-mails — through an inverted index (``search_token``) of
suffix tokens looked up by prefix range, then loads the records through the caller's scoped session.

Public API: ``SearchProvider``, ``search`` (query), ``matching_ids`` (list pages' ``?q=``), ``index_records`` /
``deferred_indexing`` / ``reindex`` (bulk writes), ``reindex_entity``,
``install``/``providers``.
"""
from core.search.index import (deferred_indexing, index_records, install, provider_for, providers, reindex,
                               reindex_entity)
from core.search.providers import SearchProvider, core_providers, default_provider
from core.search import tokens
from core.search.query import SearchGroup, SearchHit, matching_ids, search

__all__ = ["SearchProvider", "SearchGroup", "SearchHit", "search", "matching_ids", "reindex", "reindex_entity",
           "index_records", "deferred_indexing", "install",
           "providers", "provider_for", "core_providers", "default_provider"]
