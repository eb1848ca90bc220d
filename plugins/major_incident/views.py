"""Major incidents' screens and API: each incident with its batch, cases and affected quantities."""

from __future__ import annotations

from pathlib import Path

from flask import abort, g
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import safe
from flask_appbuilder.security.decorators import has_access, protect

from core.api.base import KesuApi, current_actor, service_call
from core.timeutil import in_zone
from core.workflow import STAGE_LABELS
from plugins.major_incident import services

INCIDENT_VIEW = "Incident"


class IncidentView(BaseView):
    route_base = "/incidents"
    default_view = "overview"
    # Absolute: Flask-AppBuilder makes every view's blueprint relative to its own package.
    template_folder = str(Path(__file__).parent / "templates")
    class_permission_name = INCIDENT_VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"overview": "read", "show": "read"}

    @expose("/")
    @has_access
    def overview(self):
        incidents = services.visible_incidents(g.user)
        return self.render_template(
            "major_incident/incidents.html",
            incidents=incidents,
            summary=services.incident_json,
            in_zone=in_zone,
        )

    @expose("/<int:pk>")
    @has_access
    def show(self, pk: int):
        incident = services.visible_incident(g.user, pk)
        if incident is None:
            abort(404)
        return self.render_template(
            "major_incident/incident.html",
            incident=incident,
            summary=services.incident_json(incident),
            stage_labels=STAGE_LABELS,
            in_zone=in_zone,
        )


class IncidentApi(KesuApi):
    """``/api/v1/incident/``: the major incidents of your business lines."""

    resource_name = "incident"
    class_permission_name = INCIDENT_VIEW
    base_permissions = ["can_read"]
    method_permission_name = {"get_list": "read", "get": "read"}
    openapi_spec_tag = "Major incidents"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get_list(self):
        """The incidents of your business lines, newest first.
        ---
        get:
          summary: List incidents
          responses:
            200:
              description: Incidents with their cases
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {$ref: '#/components/schemas/Incident'}}
        """
        rows = [services.incident_json(i) for i in services.visible_incidents(current_actor())]
        return self.response(200, count=len(rows), result=rows)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @service_call
    def get(self, pk: int):
        """One incident.
        ---
        get:
          summary: Read an incident
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: The incident
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {$ref: '#/components/schemas/Incident'}
            404: {$ref: '#/components/responses/404'}
        """
        incident = services.visible_incident(current_actor(), pk)
        if incident is None:
            return self.response_404()
        return self.response(200, id=incident.id, result=services.incident_json(incident))

    def add_apispec_components(self, api_spec) -> None:
        super().add_apispec_components(api_spec)
        if "Incident" not in api_spec.components.schemas:
            api_spec.components.schema(
                "Incident",
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "business_line": {"type": "string"},
                        "product": {
                            "type": "object",
                            "nullable": True,
                            "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                        },
                        "batch_no": {"type": "string"},
                        "opened_at": {"type": "string", "format": "date-time"},
                        "affected_quantity": {"type": "integer"},
                        "cases": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "number": {"type": "string"},
                                    "status": {"type": "string"},
                                    "customer": {"type": "string"},
                                    "affected_quantity": {"type": "integer"},
                                },
                            },
                        },
                    },
                },
            )
