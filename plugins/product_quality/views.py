"""Product quality's screens and API: QA's analysis and the CAPA actions of a case."""

from __future__ import annotations

from pathlib import Path

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import lazy_gettext as _l

from core import fields
from core.api.base import KesuApi, current_actor, json_body, service_call
from core.inputs import form_int
from core.services.access import get_case
from core.services.errors import ServiceError
from core.services.present import case_json
from core.views.cases import flash_error
from plugins.product_quality import services


class QualityView(BaseView):
    """Form posts from the product-quality panel of the case page."""

    route_base = "/quality"
    # Absolute: Flask-AppBuilder makes every view's blueprint relative to its own package.
    template_folder = str(Path(__file__).parent / "templates")
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {"analysis": "read", "add_action": "read", "complete_action": "read"}

    def _back(self, case_id: int):
        return redirect(url_for("CaseView.show", pk=case_id) + "#quality")

    @expose("/<int:case_id>/analysis", methods=["POST"])
    @has_access
    def analysis(self, case_id: int):
        data = {
            k: request.form.get(k, "")
            for k in ("root_cause", "responsible_unit", "engineering_change_no", "remedy")
        }
        if not data["remedy"]:
            del data["remedy"]  # not chosen: the remedy chosen before stands
        if request.form.get("root_cause_category"):
            data["root_cause_category"] = form_int(request.form["root_cause_category"])
        try:
            services.record_analysis(g.user, case_id, data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Analysis recorded.")), "success")
        return self._back(case_id)

    @expose("/<int:case_id>/actions", methods=["POST"])
    @has_access
    def add_action(self, case_id: int):
        data = {
            k: request.form.get(k, "")
            for k in ("kind", "description", "responsible_unit", "due_date")
        }
        try:
            services.add_action(g.user, case_id, data)
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Action recorded.")), "success")
        return self._back(case_id)

    @expose("/<int:case_id>/actions/<int:action_id>/done", methods=["POST"])
    @has_access
    def complete_action(self, case_id: int, action_id: int):
        try:
            services.complete_action(
                g.user, case_id, action_id, {"note": request.form.get("note", "")}
            )
        except ServiceError as exc:
            flash_error(exc)
        else:
            flash(str(_l("Action reported done.")), "success")
        return self._back(case_id)


class QualityApi(KesuApi):
    """``/api/v1/quality/<case id>/...``: QA's analysis and the CAPA actions."""

    resource_name = "quality"
    class_permission_name = "Case"
    base_permissions = ["can_read"]
    method_permission_name = {
        "analysis": "read",
        "list_actions": "read",
        "add_action": "read",
        "complete_action": "read",
    }
    openapi_spec_tag = "Product quality"

    @expose("/<int:case_id>/analysis", methods=["POST"])
    @protect()
    @safe
    @service_call
    def analysis(self, case_id: int):
        """Record QA's analysis (root cause, responsible unit, engineering change).
        ---
        post:
          summary: Record QA's analysis
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/QualityAnalysisInput'}
          responses:
            200:
              description: The case
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Case'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        case = services.record_analysis(actor, case_id, json_body())
        return self.response(200, id=case.id, result=case_json(actor, case))

    @expose("/<int:case_id>/actions", methods=["GET"])
    @protect()
    @safe
    @service_call
    def list_actions(self, case_id: int):
        """The corrective and preventive actions of a case.
        ---
        get:
          summary: List CAPA actions
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: The actions, oldest first
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {type: array, items: {$ref: '#/components/schemas/CapaAction'}}
            404: {$ref: '#/components/responses/404'}
        """
        tz = get_case(current_actor(), case_id).business_line.timezone
        return self.response(
            200, result=[services.action_json(a, tz) for a in services.actions_of(case_id)]
        )

    @expose("/<int:case_id>/actions", methods=["POST"])
    @protect()
    @safe
    @service_call
    def add_action(self, case_id: int):
        """Record a corrective or preventive action with its due date.
        ---
        post:
          summary: Add a CAPA action
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CapaActionInput'}
          responses:
            201:
              description: Recorded
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/CapaAction'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        action = services.add_action(actor, case_id, json_body())
        tz = get_case(actor, case_id).business_line.timezone
        return self.response(201, id=action.id, result=services.action_json(action, tz))

    @expose("/<int:case_id>/actions/<int:action_id>/done", methods=["POST"])
    @protect()
    @safe
    @service_call
    def complete_action(self, case_id: int, action_id: int):
        """Report a corrective or preventive action carried out, saying what was done.
        ---
        post:
          summary: Report a CAPA action done
          parameters:
          - {in: path, name: case_id, required: true, schema: {type: integer}}
          - {in: path, name: action_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema: {$ref: '#/components/schemas/CapaDoneInput'}
          responses:
            200:
              description: The action, done
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/CapaAction'}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
            409: {$ref: '#/components/responses/409'}
        """
        actor = current_actor()
        action = services.complete_action(actor, case_id, action_id, json_body())
        tz = get_case(actor, case_id).business_line.timezone
        return self.response(200, id=action.id, result=services.action_json(action, tz))

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        for name, specs in (
            ("QualityAnalysisInput", services.ANALYSIS_FIELDS),
            ("CapaActionInput", services.ACTION_FIELDS),
            ("CapaDoneInput", services.DONE_FIELDS),
        ):
            if name not in api_spec.components.schemas:
                api_spec.components.schema(name, fields.json_schema(specs))
        if "CapaAction" not in api_spec.components.schemas:
            api_spec.components.schema(
                "CapaAction",
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["corrective", "preventive"]},
                        "description": {"type": "string"},
                        "responsible_unit": {"type": "string"},
                        "due_date": {"type": "string", "format": "date"},
                        "created_by": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "done_at": {"type": "string", "format": "date-time", "nullable": True},
                        "done_by": {"type": "string", "nullable": True},
                        "done_note": {"type": "string", "nullable": True},
                    },
                },
            )
