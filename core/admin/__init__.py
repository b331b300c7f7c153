"""Administration pages: users, departments, roles, modules and licence, and "why can this user see it".

Views only read the form and call ``core.orgservice``, where the rules live. Each page is declared with the
matching ``core.admin.*`` permission.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app):
    # The view modules attach their routes to ``bp`` when imported.
    from core.admin import departments, explain, helpers, modules, roles, users  # noqa: F401
    from core.admin import customfields  # noqa: F401  (module builder)
    from core.admin import company  # noqa: F401  (company settings: the PDF letterhead)

    app.register_blueprint(bp)
