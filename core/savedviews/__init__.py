"""Saved views: a user's named list state (filters, sort, columns) per entity, shareable by administrators
with a role or a department subtree.

* ``models``: the ``saved_view`` table;
* ``services``: validate, save, list the views a user may use, share, delete;
* ``views``: save / apply / share / delete pages and the list-page menu (``saved_views_menu`` in templates).
"""


def init_app(app):
    from core.savedviews.views import bp, menu_context
    app.register_blueprint(bp)
    app.jinja_env.globals["saved_views_menu"] = menu_context
