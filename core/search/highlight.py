"""Marking what matched a query inside a displayed value: the text itself, its pinyin, or its digits."""
from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape

from core.normalize import phone_digits
from core.search.tokens import _syllables, squeeze


def _squeezed_positions(text: str):
    """(squeezed text, original index of each squeezed character)."""
    chars, positions = [], []
    for index, ch in enumerate(text):
        for part in unicodedata.normalize("NFKC", ch).lower():
            if unicodedata.category(part)[0] in ("L", "N"):
                chars.append(part)
                positions.append(index)
    return "".join(chars), positions


def _pinyin_span(squeezed: str, query: str):
    full, initials = _syllables(squeezed)
    for syllables in (full, initials):
        for start in range(len(squeezed)):
            joined = ""
            for end in range(start, len(squeezed)):
                joined += syllables[end]
                if not query.startswith(joined) and not joined.startswith(query):
                    break
                if len(joined) >= len(query):
                    return start, end + 1
    return None


def match_span(text: str, term: str):
    """(start, end) indexes into ``text`` of the part matching ``term``, or None."""
    query = squeeze(term)
    if len(query) < 2 or not text:
        return None
    squeezed, positions = _squeezed_positions(text)
    found = squeezed.find(query)
    span = (found, found + len(query)) if found >= 0 else None
    if span is None and query.isascii():
        span = _pinyin_span(squeezed, query)
    if span is None:
        digits = phone_digits(term)
        if len(digits) >= 3:
            found = squeezed.find(digits)
            span = (found, found + len(digits)) if found >= 0 else None
    if span is None:
        return None
    return positions[span[0]], positions[span[1] - 1] + 1


def highlight(text, term: str) -> Markup:
    """``text`` escaped, with the matching part in ``<mark>``."""
    text = "" if text is None else str(text)
    span = match_span(text, term)
    if span is None:
        return escape(text)
    start, end = span
    return escape(text[:start]) + Markup("<mark>") + escape(text[start:end]) + Markup("</mark>") + escape(text[end:])
