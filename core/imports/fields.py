"""Which fields of an entity a user may import, how file headers map onto them, and how a cell's text
becomes a value — all derived from the entity's schema (``core.customfields.schema_for`` when present).

Hidden fields (procurement cost for a salesperson) are never offered and are refused when a mapping names
them anyway. ``department_id`` is never importable: it follows the owner.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from marshmallow import ValidationError, fields as mm, missing, validate

from core import schemas
from core.i18n import _l

EXCLUDED = frozenset({"id", "version", "custom", "department_id", "created_at", "updated_at", "deleted_at"})
OWNER_ALIASES = frozenset({"owner", "owner_id", "负责人", "所有人", "业务员", "归属人"})
TRUE_WORDS = {"1", "true", "yes", "y", "on", "是", "对", "√", "✓", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "off", "否", "不", "×", "✗"}
LIST_SPLIT = re.compile(r"[,;，；、|]")
# String fields whose deserialisation is "a str, then the validators": checked with a fast path.
FAST_STRING_TYPES = (schemas.Text, mm.String, mm.Email, mm.URL, schemas.OptionalEmail, schemas.OptionalURL)
MEMO_LIMIT = 4096


def entity_schema(spec, scope, session):
    """The entity's load schema for this user: through ``core.customfields.schema_for`` once it exists
    (with the active custom fields, without hidden fields), else the spec's own schema."""
    try:
        from core.customfields import schema_for
    except ImportError:
        schema_for = None
    if schema_for is not None:
        return schema_for(spec, scope, session=session)
    return spec.schema()


@dataclass
class ImportField:
    """A target of the column mapping. ``kind``: owner, reference (``reference`` = entity), tags or value."""

    name: str
    label: str
    required: bool
    kind: str = "value"
    reference: str | None = None
    aliases: frozenset = field(default_factory=frozenset)


def importable_fields(spec, scope, schema) -> dict[str, ImportField]:
    """``{name: ImportField}`` in form order: schema load fields that are columns and visible to ``scope``."""
    from core.web import display

    # hidden form inputs (a follow-up's link to a lead or project) are set by pages that check them, never
    # by a file: an import does not run the entity's save rules (``EntitySpec.on_save``)
    hidden = spec.hidden_fields(scope) | {f.name for f in spec.fields if f.widget == "hidden"}
    columns = {c.key for c in spec.model.__mapper__.column_attrs}
    ordered = [f.name for f in spec.fields] + sorted(schema.load_fields)
    result = {}
    for name in dict.fromkeys(ordered):
        loader = schema.load_fields.get(name)
        if loader is None or name in EXCLUDED or name in hidden or name not in columns:
            continue
        if name == "owner_id" and not spec.scoped:
            continue
        kind, reference = "value", display.reference_of(spec, name)
        if display.is_owner_field(spec, name):
            kind = "owner"
        elif reference:
            kind = "reference"
        aliases = _labels(spec, name) | ({name} if kind != "owner" else set(OWNER_ALIASES))
        result[name] = ImportField(name=name, label=display.label(spec, name), required=loader.required,
                                   kind=kind, reference=reference, aliases=frozenset(map(header_key, aliases)))
    result.update(custom_fields(schema))
    if "tags" not in hidden:
        result.update(tag_field(spec, schema))
    return result


def tag_field(spec, schema) -> dict[str, ImportField]:
    """A "tags" target for entities with tags (names separated by , ， 、 ; ；)."""
    from core.imports.checks import TAGS, taggable
    from core.web import display

    if not taggable(spec, schema):
        return {}
    aliases = _labels(spec, TAGS) | {TAGS, "tag", "标签", "印象", "客户印象"}
    return {TAGS: ImportField(name=TAGS, label=display.label(spec, TAGS), required=False, kind="tags",
                              aliases=frozenset(map(header_key, aliases)))}


def custom_fields(schema) -> dict[str, ImportField]:
    """The active custom fields of the schema's nested ``custom`` schema, as ``custom.<key>`` targets."""
    nested = getattr(schema.load_fields.get("custom"), "schema", None)
    if nested is None:
        return {}
    result = {}
    for key, loader in nested.load_fields.items():
        fdef = getattr(loader, "fdef", None)
        labels = {fdef.label(code) for code in ("zh_CN", "en")} if fdef is not None else {key}
        label = fdef.label(_language()) if fdef is not None else key
        result[f"custom.{key}"] = ImportField(
            name=f"custom.{key}", label=label, required=loader.required,
            aliases=frozenset(map(header_key, labels | {key, f"custom.{key}"})))
    return result


def loader_of(schema, name):
    """The marshmallow field behind an import target (``custom.<key>`` looks inside ``custom``)."""
    if name.startswith("custom."):
        return schema.load_fields["custom"].schema.load_fields[name.split(".", 1)[1]]
    return schema.load_fields[name]


def _language() -> str:
    from flask_babel import get_locale
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def _labels(spec, name) -> set[str]:
    """The field's label in every language (a Chinese header and an English one both match)."""
    from flask_babel import force_locale

    from core.web import display

    labels = set()
    for code in ("zh_CN", "en"):
        with force_locale(code):
            labels.add(display.label(spec, name))
    return labels


def header_key(text: str) -> str:
    """A header compared loosely: no blanks, case or "required" star."""
    return re.sub(r"\s+", "", str(text)).strip("*＊").lower()


def suggest(header: list[str], fields: dict[str, ImportField], saved: dict | None = None) -> dict[int, str]:
    """``{column index: field}``: a saved mapping's header first, then labels/names; each field once."""
    taken, mapping = set(), {}
    saved_keys = {header_key(k): v for k, v in (saved or {}).items()}
    for index, text in enumerate(header):
        key = header_key(text)
        name = saved_keys.get(key)
        if name is None:
            name = next((f.name for f in fields.values() if key in f.aliases), None)
        if name in fields and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def validate_mapping(mapping: dict, fields: dict[str, ImportField], width: int) -> dict[int, str]:
    """The mapping with int column indexes; ValidationError when it names an unknown/hidden field, maps a
    field twice, or leaves a required field (other than the owner) unmapped."""
    clean, seen, errors = {}, set(), {}
    for raw_index, name in mapping.items():
        if not name:
            continue
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            errors.setdefault("mapping", []).append(str(_l("Unknown column.")))
            continue
        if name not in fields or not 0 <= index < width:
            errors.setdefault(str(index), []).append(str(_l("Unknown field.")))
        elif name in seen:
            errors.setdefault(str(index), []).append(str(_l("This field is mapped twice.")))
        else:
            clean[index] = name
            seen.add(name)
    missing_required = [f.label for f in fields.values() if f.required and f.name not in seen]
    if missing_required:
        errors.setdefault("mapping", []).append(
            str(_l("Map a column to every required field: %(fields)s", fields=", ".join(missing_required))))
    if errors:
        raise ValidationError(errors)
    return clean


def converter(loader):
    """``text -> value`` for one schema field (ValidationError on bad input). Cells arrive stripped and
    non-blank. Plain strings take a fast path (the field's own validators, without the per-call overhead
    of a full ``deserialize``); other types go through ``deserialize``, memoised (statuses, booleans and
    dates repeat a lot in real files)."""
    if type(loader) in FAST_STRING_TYPES:
        # The field's own validators (Length, OneOf, Email, URL), called directly: ``Field._validate``
        # builds an ``And`` with a lazy message on every call, which costs more than the checks.
        validators = tuple((_settled(v), _passes(v)) for v in loader.validators)

        def text(raw):
            if "\x00" in raw:
                raise ValidationError(str(_l("Invalid value.")))
            for validator, passes in validators:
                if passes is not None and passes(raw):
                    continue  # the common case, decided without the validator's call overhead
                if validator(raw) is False:  # raises with its own message when the value is refused
                    raise ValidationError(str(loader.error_messages["validator_failed"]))
            return raw
        return text
    if isinstance(loader, mm.Boolean):
        return _memo(lambda raw: _boolean(loader, raw))
    if isinstance(loader, mm.List):
        return lambda raw: loader.deserialize([p.strip() for p in LIST_SPLIT.split(raw) if p.strip()])
    return _memo(loader.deserialize)


def _passes(validator):
    """A quick ``str -> bool`` that is True only where ``validator`` would accept the value (Length, OneOf),
    or None. A False answer still goes through the validator itself, so refusals keep its exact message."""
    if type(validator) is validate.Length:
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return lambda raw: len(raw) == equal
        low = 0 if low is None else low
        high = float("inf") if high is None else high
        return lambda raw: low <= len(raw) <= high
    if type(validator) is validate.OneOf:
        try:
            choices = frozenset(validator.choices)
        except TypeError:  # unhashable choices: the validator decides
            return None
        return choices.__contains__
    return None


def _settled(validator):
    """A copy of ``validator`` whose error message is already translated: ``Email`` and ``URL`` format their
    message before every check, and a lazy message means a gettext lookup per cell. The job's language is
    fixed for the whole run."""
    error = getattr(validator, "error", None)
    if error is None or isinstance(error, str) or not hasattr(validator, "_format_error"):
        return validator
    settled = copy.copy(validator)
    settled.error = str(error)
    return settled


def _boolean(loader, raw):
    lowered = raw.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return loader.deserialize(raw)


def _memo(function):
    cache = {}

    def convert(raw):
        hit = cache.get(raw, missing)
        if hit is not missing:
            if isinstance(hit, ValidationError):
                raise hit
            return hit
        try:
            value = function(raw)
        except ValidationError as err:
            value = err
        if len(cache) < MEMO_LIMIT:
            cache[raw] = value
        if isinstance(value, ValidationError):
            raise value
        return value
    return convert


def load_default(loader):
    """The value a missing field gets on create (marshmallow ``load_default``), or ``missing``."""
    default = loader.load_default
    return default() if callable(default) else default
