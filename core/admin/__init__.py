"""Administration pages (users, departments, roles, modules)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app):
    pass
