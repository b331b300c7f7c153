"""Duplicates and merge: a warning on create, a duplicate finder and a merge page (customers and contacts).

* ``keys``: the normalised, indexed ``name_key``/``phone_key``/``email_key`` columns and their upkeep;
* ``finder``: likely duplicate groups, grouped in SQL over the caller's scope;
* ``warnings``: "this looks like an existing record" on the create form (visible records only);
* ``merge``: the merge service (one transaction; plugins re-link through the ``merge_records`` hook);
* ``views``: the finder and merge pages.
"""
MERGEABLE = ("customer", "contact")


def init_app(app):
    from core.dedupe.views import bp
    app.register_blueprint(bp)
