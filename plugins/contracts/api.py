"""Delivery-plan milestones in the REST API, under their contract:

``/api/v1/contract/<id>/delivery-plans``             GET list · POST add
``/api/v1/contract/<id>/delivery-plans/<plan_id>``   GET one · PATCH change

The contract is loaded through the caller's scope first ("view" to read, "edit" to write): a contract out of
scope, or a milestone id of another contract, answers 404 like a missing one. Same services as the pages.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from core.api.bodies import guarded
from core.api.errors import api_abort, api_error_response
from core.authz import requires
from core.runtime import db
from core.web.common import ID
from plugins.contracts import services
from plugins.contracts.schemas import DeliveryPlanOutSchema, DeliveryPlanSchema

bp = Blueprint("contracts_api", __name__, url_prefix="/api/v1/contract")
bp.register_error_handler(HTTPException, api_error_response)
VIEW, EDIT = "contracts.contract.view", "contracts.contract.edit"


def _body(partial=False) -> dict:
    if not request.is_json:
        api_abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        api_abort(400)
    from marshmallow import ValidationError
    try:
        return DeliveryPlanSchema(partial=partial).load(body)
    except ValidationError as err:
        api_abort(422, fields=err.messages)


@bp.get(f"/<{ID}:contract_id>/delivery-plans")
@requires(VIEW)
def plan_list(contract_id):
    session = db()
    contract = guarded(session, lambda: services.get_contract(session, contract_id))
    return jsonify(items=DeliveryPlanOutSchema(many=True).dump(services.plans_of(session, contract.id)),
                   currency=contract.currency)


@bp.post(f"/<{ID}:contract_id>/delivery-plans")
@requires(EDIT)
def plan_create(contract_id):
    session = db()
    data = _body()
    plan = guarded(session, lambda: services.save_plan(session, contract_id, data))
    session.commit()
    response = jsonify(DeliveryPlanOutSchema().dump(plan))
    response.status_code = 201
    return response


@bp.get(f"/<{ID}:contract_id>/delivery-plans/<{ID}:plan_id>")
@requires(VIEW)
def plan_detail(contract_id, plan_id):
    session = db()
    _contract, plan = guarded(session, lambda: services.get_plan(session, contract_id, plan_id))
    return jsonify(DeliveryPlanOutSchema().dump(plan))


@bp.patch(f"/<{ID}:contract_id>/delivery-plans/<{ID}:plan_id>")
@requires(EDIT)
def plan_update(contract_id, plan_id):
    session = db()
    _contract, plan = guarded(session, lambda: services.get_plan(session, contract_id, plan_id, action="edit"))
    current = {name: getattr(plan, name) for name in ("title", "due_on", "amount", "items", "status",
                                                      "delivered_on")}
    changes = _body(partial=True)
    if "status" in changes and changes["status"] != "delivered" and "delivered_on" not in changes:
        current["delivered_on"] = None  # leaving "delivered" clears its date unless one is given
    data = {**current, **changes}
    plan = guarded(session, lambda: services.save_plan(session, contract_id, data, plan_id))
    session.commit()
    return jsonify(DeliveryPlanOutSchema().dump(plan))
