"""Signed licence files (Ed25519): who may run which modules, with how many seats, until when.

File format (JSON): ``{"payload": {"licensee", "modules", "seats", "expires"}, "signature": base64}``; the
signature covers the canonical JSON of ``payload`` (sorted keys, no spaces). Without a licence file every
installed module is allowed (the open-source default).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.i18n import _l


@dataclass
class Licence:
    licensee: str = ""
    modules: list[str] = field(default_factory=list)  # ["*"] = every module
    seats: int | None = None
    expires: dt.date | None = None
    valid: bool = False
    problem: object = ""  # why it is not valid (a lazy, translatable text shown to the admin)
    path: str = ""

    def allows(self, module: str) -> bool:
        return self.valid and ("*" in self.modules or module in self.modules)


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(payload: dict, private_key: Ed25519PrivateKey) -> dict:
    """Vendor side (and tests): a licence document for ``payload``."""
    signature = private_key.sign(canonical(payload))
    return {"payload": payload, "signature": base64.b64encode(signature).decode("ascii")}


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def verify(document: dict, public_keys: list[str], today: dt.date | None = None, path="") -> Licence:
    """Check signature, shape and expiry; never raises for a bad file, it reports ``problem``."""
    today = today or dt.date.today()
    payload = document.get("payload") if isinstance(document, dict) else None
    if not isinstance(payload, dict):
        return Licence(problem=_l("malformed licence file"), path=path)
    licence = Licence(
        licensee=str(payload.get("licensee", "")),
        modules=[str(m) for m in payload.get("modules", [])] if isinstance(payload.get("modules"), list) else [],
        seats=payload.get("seats") if isinstance(payload.get("seats"), int) else None,
        path=path,
    )
    try:
        licence.expires = dt.date.fromisoformat(str(payload.get("expires")))
    except ValueError:
        licence.problem = _l("licence has no valid expiry date")
        return licence
    try:
        signature = base64.b64decode(str(document.get("signature", "")), validate=True)
    except ValueError:
        licence.problem = _l("licence signature is not base64")
        return licence
    if not public_keys:
        licence.problem = _l("no vendor public key is configured to check the licence")
        return licence
    for key_b64 in public_keys:
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64))
            key.verify(signature, canonical(payload))
            break
        except (InvalidSignature, ValueError):
            continue
    else:
        licence.problem = _l("licence signature does not match any vendor key (tampered or foreign)")
        return licence
    if licence.expires < today:
        licence.problem = _l("licence expired on %(date)s", date=licence.expires.isoformat())
        return licence
    licence.valid = True
    return licence


def load(path: str | None, public_keys: list[str], today=None) -> Licence | None:
    """None when no licence file is configured; a (maybe invalid) Licence otherwise."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except OSError as exc:
        return Licence(problem=_l("cannot read licence file: %(reason)s", reason=exc.strerror), path=path)
    except ValueError:
        return Licence(problem=_l("licence file is not JSON"), path=path)
    return verify(document, public_keys, today=today, path=path)
