"""Settings: ``config/default.py`` < environment ``GUANXI_<NAME>`` < explicit overrides (tests)."""
import os
import secrets
from pathlib import Path

from config import default

_TRUE = {"1", "true", "yes", "on"}


def _coerce(default_value, raw):
    if isinstance(default_value, bool):
        return raw.strip().lower() in _TRUE
    if isinstance(default_value, int):
        return int(raw)
    return raw


def load_settings(overrides=None):
    """Return the effective settings dict (upper-case names)."""
    settings = {k: v for k, v in vars(default).items() if k.isupper()}
    for name, value in list(settings.items()):
        raw = os.environ.get(f"GUANXI_{name}")
        if raw is not None:
            settings[name] = _coerce(value, raw)
    settings.update(overrides or {})
    instance = Path(settings["INSTANCE_PATH"] or Path.cwd() / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    settings["INSTANCE_PATH"] = str(instance)
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'guanxi.db'}"
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance)
    settings["BACKUP_DIR"] = settings["BACKUP_DIR"] or str(instance / "backups")
    return settings


def _instance_secret(instance: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (mode 0600)."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def split_list(value):
    """``"a, b"`` or a list -> ``["a", "b"]``."""
    if isinstance(value, (list, tuple)):
        return [v for v in value if v]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]
