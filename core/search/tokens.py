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

from pypinyin import lazy_pinyin
from pypinyin.constants import RE_HANS as _HANS

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


class _Classes(dict):
    """character -> "cjk" | "digit" | "latin" | None (not a letter or digit), looked up once per character:
    ``unicodedata.category`` per character of every value is most of the cost of tokenising a name."""

    def __missing__(self, ch):
        found = self[ch] = _word_class(ch) if _is_alnum(ch) else None
        return found


_CLASS = _Classes()


def _starts(text: str) -> tuple[str, list[int]]:
    """(squeezed text, start positions): each ideograph, and each start of a Latin word or number."""
    normalised = unicodedata.normalize("NFKC", text or "").lower()
    classes = _CLASS
    squeezed, starts, previous = [], [], None
    for ch in normalised:
        cls = classes[ch]
        if cls is None:
            previous = None  # a space or punctuation ends the word
            continue
        if cls == "cjk" or cls != previous:
            starts.append(len(squeezed))
        squeezed.append(ch)
        previous = cls
    return "".join(squeezed), starts


def _suffixes(text: str, starts, minimum=MIN_TOKEN) -> set[str]:
    last = len(text) - minimum  # a suffix starting after this one is too short
    return {text[start:start + MAX_TOKEN] for start in starts if start <= last}


# pypinyin converts each run of Han characters on its own (``simple_seg`` splits there, phrases are looked
# up inside a run) and leaves other characters as they are (our ``errors`` handler): converting run by run
# gives the same syllables, and runs ("有限公司", "科技", a city) repeat across records, so they are cached.
_HAN_RUN = re.compile("(?:" + _HANS.pattern.removeprefix("^(?:").removesuffix(")+$") + ")+")


@lru_cache(maxsize=65536)
def _run_syllables(run: str) -> tuple[str, ...]:
    full = lazy_pinyin(run, errors=lambda chunk: list(chunk))
    if len(full) != len(run):  # defensive: keep positions aligned with the characters
        full = [lazy_pinyin(ch, errors=lambda c: list(c))[0] for ch in run]
    return tuple(full)


@lru_cache(maxsize=65536)
def _syllables(squeezed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Per character: (full pinyin, initial); characters without pinyin stand for themselves."""
    full, position = [], 0
    for match in _HAN_RUN.finditer(squeezed):
        full.extend(squeezed[position:match.start()])
        full.extend(_run_syllables(match.group()))
        position = match.end()
    full.extend(squeezed[position:])
    initials = [syllable[0] if syllable else "" for syllable in full]
    return tuple(full), tuple(initials)


def _pinyin_suffixes(squeezed: str) -> set[str]:
    positions = [i for i, ch in enumerate(squeezed) if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"]
    if not positions:
        return set()
    full, initials = _syllables(squeezed)
    # suffixes grown from the end: one short concatenation per character instead of a join per position
    full_suffix = initial_suffix = ""
    found = set()
    wanted = set(positions)
    for i in range(len(squeezed) - 1, positions[0] - 1, -1):
        full_suffix = (full[i] + full_suffix)[:PINYIN_TOKEN]
        initial_suffix = (initials[i] + initial_suffix)[:MAX_TOKEN]
        if i in wanted:
            if len(full_suffix) >= MIN_TOKEN:
                found.add(full_suffix)
            if len(initial_suffix) >= MIN_TOKEN:
                found.add(initial_suffix)
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
    return {digits[start:start + MAX_TOKEN] for start in range(len(digits) - MIN_PHONE_TOKEN + 1)}


def email_tokens(value: str) -> set[str]:
    address = email_key(value)
    classes, starts, previous = _CLASS, [], None
    for i, ch in enumerate(address):
        cls = classes[ch]
        if cls is not None and previous is None:
            starts.append(i)
        previous = cls
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
