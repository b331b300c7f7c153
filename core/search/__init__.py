"""Global search: one box over every entity that registers a search provider.

Finds Chinese names by any substring of two or more characters, by full pinyin and by pinyin initials,
phone numbers however they are typed, and e-mails — through an inverted index (``search_token``) of
suffix tokens looked up by prefix range, then loads the records through the caller's scoped session.

Public API: ``SearchProvider``, ``search`` (query), ``reindex`` (after bulk writes), ``reindex_entity``,
``install``/``providers``.
"""
from core.search.index import install, provider_for, providers, reindex, reindex_entity
from core.search.providers import SearchProvider, core_providers, default_provider
from core.search import tokens
from core.search.query import SearchGroup, SearchHit, search

__all__ = ["SearchProvider", "SearchGroup", "SearchHit", "search", "reindex", "reindex_entity", "install",
           "providers", "provider_for", "core_providers", "default_provider"]
