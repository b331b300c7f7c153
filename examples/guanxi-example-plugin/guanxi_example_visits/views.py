"""The module's own page. Every view is declared with ``core.authz`` (a contract test checks it)."""
from flask import Blueprint, render_template

from core.authz import requires
from core.runtime import db
from guanxi_example_visits import services
from guanxi_example_visits.schemas import OUTCOME_CHOICES

bp = Blueprint("visits", __name__, url_prefix="/visits", template_folder="templates")


@bp.route("/summary")
@requires("visits.site_visit.view")
def summary():
    """Visits per outcome, counted over what the user may see (the request session carries his scope)."""
    counts = services.outcome_counts(db())
    return render_template("visits/summary.html", counts=counts, total=sum(counts.values()),
                           outcomes=OUTCOME_CHOICES)
