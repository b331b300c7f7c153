"""Turning field values and queries into search tokens (pure functions, no database).

Every token is a *suffix*: the normalised text from some start position onwards, cut at ``MAX_TOKEN``
characters. A query then matches by prefix (a B-tree range scan), so a token starting at position *i* finds
every substring that begins there. Start positions are chosen per kind of text:

* Chinese (and other scripts without spaces): every character — any substring of two or more characters.
* Latin words and numbers: the start of each word — "trading" finds "ACME Trading Co".
* Long texts (follow-up content): the above on their first ``LONG_TEXT_CHARS`` characters, no pinyin.
* Pinyin: every Chinese character, once as full pinyin ("huahongmaoyi…") and once as initials ("hhmy…"),
  so "huahong", "hh" and "shhh" find 上海华宏贸易. Full-pinyin tokens stop at ``PINYIN_TOKEN`` letters
  (five or six syllables: enough to tell names apart, half the bytes of the longest suffixes); a longer
  Latin query is also looked up by its first ``PINYIN_TOKEN`` letters.
* Phones: every digit of the normalised number — "0013-8000" finds "+86 138-0013-8000".
* E-mails: the whole address and each word start in it, keeping "@" and ".".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from core.normalize import email_key, phone_digits

MAX_TOKEN = 40  # longer suffixes add size, not recall: a query is cut to this length too
PINYIN_TOKEN = 20  # full pinyin is long (≈ 3 letters a character): its tokens are cut shorter
MIN_TOKEN = 2  # one-character searches are not supported (they would match everything)
MIN_PHONE_TOKEN = 3
# Long texts (follow-up content) index their beginning only, without pinyin: a note is found by how it
# starts. 16 characters: follow-ups outnumber customers 2:1, and each indexed character is a token.
LONG_TEXT_CHARS = 16

TEXT, PHONE, EMAIL, LONG = "text", "phone", "email", "long"
KINDS = (TEXT, PHONE, EMAIL, LONG)

_PHONE_QUERY = re.compile(r"^[\d\s\-+().]+$")


def squeeze(text: str) -> str:
    """NFKC, lower case, letters and digits only (no spaces or punctuation)."""
    normalised = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in normalised if _is_alnum(ch))


def _is_alnum(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "N")


def _is_ideograph(ch: str) -> bool:
    # "Lo": CJK ideographs, kana, Hangul … — scripts written without spaces between words
    return unicodedata.category(ch) == "Lo"


def _word_class(ch: str) -> str:
    if _is_ideograph(ch):
        return "cjk"
    return "digit" if ch.isdigit() else "latin"


def _starts(text: str) -> tuple[str, list[int]]:
    """(squeezed text, start positions): each ideograph, and each start of a Latin word or number."""
    normalised = unicodedata.normalize("NFKC", text or "").lower()
    squeezed, starts, previous = [], [], None
    for ch in normalised:
        if not _is_alnum(ch):
            previous = None  # a space or punctuation ends the word
            continue
        cls = _word_class(ch)
        if cls == "cjk" or cls != previous:
            starts.append(len(squeezed))
        squeezed.append(ch)
        previous = cls
    return "".join(squeezed), starts


def _suffixes(text: str, starts, minimum=MIN_TOKEN) -> set[str]:
    found = set()
    for start in starts:
        token = text[start:start + MAX_TOKEN]
        if len(token) >= minimum:
            found.add(token)
    return found


@lru_cache(maxsize=65536)
def _syllables(squeezed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Per character: (full pinyin, initial); characters without pinyin stand for themselves."""
    full = lazy_pinyin(squeezed, errors=lambda chunk: list(chunk))
    if len(full) != len(squeezed):  # defensive: keep positions aligned with the characters
        full = [lazy_pinyin(ch, errors=lambda c: list(c))[0] for ch in squeezed]
    initials = [syllable[0] if syllable else "" for syllable in full]
    return tuple(full), tuple(initials)


def _pinyin_suffixes(squeezed: str) -> set[str]:
    positions = [i for i, ch in enumerate(squeezed) if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"]
    if not positions:
        return set()
    full, initials = _syllables(squeezed)
    # suffixes grown from the end: one short concatenation per character instead of a join per position
    full_suffix = initial_suffix = ""
    by_position = {}
    for i in range(len(squeezed) - 1, -1, -1):
        full_suffix = (full[i] + full_suffix)[:PINYIN_TOKEN]
        initial_suffix = (initials[i] + initial_suffix)[:MAX_TOKEN]
        by_position[i] = (full_suffix, initial_suffix)
    found = set()
    for i in positions:
        found.update(t for t in by_position[i] if len(t) >= MIN_TOKEN)
    return found


def text_tokens(value: str) -> set[str]:
    """Tokens of a name or other short text: ideograph and word suffixes, full pinyin and initials."""
    squeezed, starts = _starts(value)
    return _suffixes(squeezed, starts) | _pinyin_suffixes(squeezed)


def long_text_tokens(value: str) -> set[str]:
    """Ideograph and word suffixes of the beginning of a long text (no pinyin: keeps the index small —
    a follow-up is found by what it says, a name by how it sounds)."""
    squeezed, starts = _starts((value or "")[:LONG_TEXT_CHARS])
    return _suffixes(squeezed, starts)


def phone_tokens(value: str) -> set[str]:
    digits = phone_digits(value)
    return _suffixes(digits, range(len(digits)), MIN_PHONE_TOKEN)


def email_tokens(value: str) -> set[str]:
    address = email_key(value)
    starts = [i for i, ch in enumerate(address) if _is_alnum(ch) and (i == 0 or not _is_alnum(address[i - 1]))]
    return _suffixes(address, starts)


_BY_KIND = {TEXT: text_tokens, LONG: long_text_tokens, PHONE: phone_tokens, EMAIL: email_tokens}


def tokens_for(kind: str, value) -> set[str]:
    """All tokens of one field value of ``kind`` (text, long, phone, email)."""
    if value is None or value == "":
        return set()
    return _BY_KIND[kind](str(value))


def query_prefixes(query: str) -> list[str]:
    """The prefixes a query is looked up by: its squeezed form, its phone digits, its e-mail form."""
    variants = [squeeze(query)]
    if _PHONE_QUERY.match(query.strip()):
        variants.append(phone_digits(query))
    if "@" in query or "." in query:
        variants.append(email_key(query))
    if len(variants[0]) > PINYIN_TOKEN and variants[0].isascii() and variants[0].isalpha():
        variants.append(variants[0][:PINYIN_TOKEN])  # a long full-pinyin query: its tokens are shorter
    result = []
    for variant in variants:
        variant = variant[:MAX_TOKEN]
        if len(variant) >= MIN_TOKEN and variant not in result:
            result.append(variant)
    return result


NAMESPACE_MARK = "\x1f"  # never part of a query: squeezed queries hold letters and digits only


def namespaced(namespace: str, token: str) -> str:
    """``token`` of a restricted field, reachable only by a query that names the field's namespace."""
    return f"{NAMESPACE_MARK}{namespace}{NAMESPACE_MARK}{token}"[:MAX_TOKEN]


def upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (binary collation)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
