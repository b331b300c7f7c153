"""Normalisers for phone numbers, e-mail addresses and names.

Shared by global search (core.search) and duplicate detection (core.dedupe): both must agree on
what "the same phone" or "the same company name" means, so the rules live in one place.
"""
from __future__ import annotations

import re
import unicodedata

_NON_DIGIT = re.compile(r"\D+")
# Mainland mobile numbers: 11 digits starting with 1[3-9].
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")

# Longest first, so "股份有限公司" is removed before "公司" would leave "股份有限". Chinese has no
# word boundaries, so these are stripped from the end of the squeezed name.
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司")
# Latin suffixes are whole words only: "Costco" must not lose its "co", nor "Zinc" its "inc".
_LATIN_SUFFIX_WORDS = frozenset(
    {"co", "company", "corp", "corporation", "inc", "incorporated", "llc", "ltd", "limited", "gmbh"}
)
_WORD = re.compile(r"[^\W_]+")


def phone_digits(text: str | None) -> str:
    """Digits of a phone number, without a +86/0086/86 prefix in front of a mainland mobile number.

    "+86 138-0013-8000", "0086 13800138000" and "138 0013 8000" all give "13800138000"; a
    landline keeps its area code ("010-6552 9988" gives "01065529988").
    """
    digits = _NON_DIGIT.sub("", text or "")
    for prefix in ("0086", "86"):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and len(rest) == 11 and _CN_MOBILE.fullmatch(rest):
            return rest
    return digits


def email_key(text: str | None) -> str:
    """An e-mail address compared case-insensitively and without surrounding blanks."""
    return (text or "").strip().lower()


def _strip_cjk_suffixes(key: str) -> str:
    # Repeat so "集团有限公司" loses both parts; never strip the whole name away.
    changed = True
    while changed:
        changed = False
        for suffix in _CJK_SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
                break
    return key


def name_key(text: str | None) -> str:
    """A person's or company's name reduced for comparison.

    NFKC (full-width letters become ASCII), lower case, no whitespace or punctuation, and common
    company suffixes (有限公司, 股份有限公司, 集团, Co., Ltd, Inc, LLC ...) removed:
    "上海华宏贸易有限公司" and "上海华宏贸易" give the same key, as do "ACME Co., Ltd." and "acme".
    """
    words = _WORD.findall(unicodedata.normalize("NFKC", text or "").lower())
    while len(words) > 1 and words[-1] in _LATIN_SUFFIX_WORDS:
        words.pop()
    return _strip_cjk_suffixes("".join(words))
