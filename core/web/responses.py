"""HTTP helpers for downloads: an RFC 6266 / RFC 5987 ``Content-Disposition`` that no filename can break."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\[\]+-]")


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_ASCII.sub("_", text).strip(" ._-")


def content_disposition(filename: str, disposition: str = "attachment", fallback: str | None = None) -> str:
    """``attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded``.

    The ASCII fallback keeps only harmless characters, so quotes, backslashes, CR/LF or NUL in a name can
    never end the header or add a new one; the UTF-8 form carries the real (e.g. Chinese) name.
    ``fallback``: a better ASCII name than the transliteration (e.g. ``customer-2024-05-01.csv``).
    """
    name = "".join(c for c in filename if unicodedata.category(c)[0] != "C").strip() or "download"
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ascii_stem, ascii_ext = _ascii(stem) or "download", _ascii(ext)
    ascii_name = f"{ascii_stem}.{ascii_ext}" if ascii_ext else ascii_stem
    if fallback is not None and ascii_name != name:
        ascii_name = _ascii(fallback) or ascii_name
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
