"""Languages: Flask-Babel with one catalogue per owner (core and each plugin keep ``translations/``).

The locale is the user's saved choice, then the session's (language switch), then the browser's.
Marshmallow's default error messages are replaced by translatable ones so that field errors appear in the
user's language on pages and in the API.
"""
from pathlib import Path

from flask import g, request, session
from babel import support
from flask_babel import Babel, Domain, get_locale, gettext, lazy_gettext, ngettext  # noqa: F401  (re-exported)
from marshmallow import Schema, fields, validate

_ = gettext
_l = lazy_gettext

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


def select_locale():
    from flask import current_app, has_request_context
    if not has_request_context():  # jobs and CLI: the instance's default language
        return current_app.config["DEFAULT_LANGUAGE"]
    languages = [lang for lang in current_app.config["LANGUAGES"].split(",") if lang]
    user = g.get("user")
    if user is not None and getattr(user, "language", None) in languages:
        return user.language
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]


def select_timezone():
    from flask import current_app
    return current_app.config["TIMEZONE"]


def translation_directories(app) -> list[str]:
    dirs = [str(Path(__file__).parent / "translations")]
    gx = app.extensions["guanxi"]
    for name, plugin in gx.pm.list_name_plugin():
        module_file = getattr(plugin, "__file__", None)
        if name != "core" and module_file:
            candidate = Path(module_file).parent / "translations"
            if candidate.is_dir():
                dirs.append(str(candidate))
    return dirs


class CatalogueDomain(Domain):
    """The "messages" domain, also found in the folder ``pybabel init -l zh_CN`` creates.

    Babel parses ``zh_CN`` as ``zh_Hans_CN`` (it adds the likely script), and gettext then looks only for
    ``zh_Hans_CN/`` and ``zh/``, so a ``zh_CN/`` catalogue (core's and any plugin's) would silently not load.
    """

    def get_translations(self):
        locale = get_locale()
        if locale is None:  # outside a request or app context
            return support.NullTranslations()
        key = str(locale)
        if key not in self.cache:
            names = [key]
            if locale.script and locale.territory:
                names.append(f"{locale.language}_{locale.territory}")
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalog = support.Translations.load(dirname, names, self.domain[0])
                translations.merge(catalog)
                if hasattr(catalog, "plural"):  # merge() does not copy the plural rule
                    translations.plural = catalog.plural
            self.cache[key] = translations
        return self.cache[key]


def init_app(app):
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories(app))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LANGUAGE"]
    babel = Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    babel.domain_instance = CatalogueDomain()  # shadows Flask-Babel's cached default domain for this app


def _translate_marshmallow_messages():
    fields.Field.default_error_messages.update(
        required=_l("This field is required."),
        null=_l("This field may not be empty."),
        validator_failed=_l("Invalid value."),
    )
    fields.String.default_error_messages.update(invalid=_l("Not a valid text."))
    fields.Integer.default_error_messages.update(invalid=_l("Not a valid whole number."))
    fields.Number.default_error_messages.update(invalid=_l("Not a valid number."),
                                                too_large=_l("Number too large."))
    fields.Decimal.default_error_messages.update(special=_l("Not a valid number."))
    fields.Boolean.default_error_messages.update(invalid=_l("Not a valid yes/no value."))
    fields.Date.default_error_messages.update(invalid=_l("Not a valid date (YYYY-MM-DD)."))
    fields.DateTime.default_error_messages.update(invalid=_l("Not a valid date and time."))
    fields.Email.default_error_messages.update(invalid=_l("Not a valid e-mail address."))
    fields.URL.default_error_messages.update(invalid=_l("Not a valid URL."))
    fields.List.default_error_messages.update(invalid=_l("Not a valid list."))
    fields.Dict.default_error_messages.update(invalid=_l("Not a valid mapping."))
    validate.Length.message_max = _l("At most {max} characters.")
    validate.Length.message_min = _l("At least {min} characters.")
    validate.Length.message_all = _l("Between {min} and {max} characters.")
    validate.OneOf.default_message = _l("Must be one of: {choices}.")
    Schema._default_error_messages = {**Schema._default_error_messages, "type": _l("Invalid input type."),
                                      "unknown": _l("Unknown field.")}


_translate_marshmallow_messages()


def plain(errors):
    """Turn lazy strings in a marshmallow error dict into plain strings (for JSON and templates)."""
    if isinstance(errors, dict):
        return {str(k): plain(v) for k, v in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [plain(v) for v in errors]
    return str(errors)
