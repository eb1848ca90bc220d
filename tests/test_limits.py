"""Check 9: every text, number and list Kesu accepts has a documented maximum (core/limits.py).

(a) Guards: the OpenAPI document, the SQLAlchemy models and the screens' forms (core and
plugins) are walked, and any input without a maximum fails the suite until it gets one.
(b) Boundaries: a value at its maximum is accepted; one over is refused with a 4xx that names
the field, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_appbuilder import Model

from core import limits
from core.extensions import db
from core.models import AuditEvent, Case, CompensationLine
from tests.conftest import case_body, make_plugin
from tests.plugin_helpers import act
from tests.test_approvals import proposal_of
from tests.test_screen_rules import login

# -- (a) guards ----------------------------------------------------------------------------------


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _unbounded(spec: dict, schema: dict, where: str, out: list[str], depth: int = 0) -> None:
    """Collect the places in a request schema where a value has no maximum."""
    schema = _resolve(spec, schema)
    if depth > 20:
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for n, sub in enumerate(schema.get(key, [])):
            _unbounded(spec, sub, f"{where}/{key}[{n}]", out, depth + 1)
    kind = schema.get("type")
    if "enum" in schema or kind == "boolean":
        return
    if kind == "string":
        binary = schema.get("format") == "binary"
        if "maxLength" not in schema and not (binary and "MB" in schema.get("description", "")):
            out.append(f"{where}: text without maxLength")
    elif kind in ("integer", "number"):
        if "maximum" not in schema:
            out.append(f"{where}: number without maximum")
    elif kind == "array":
        if "maxItems" not in schema:
            out.append(f"{where}: list without maxItems")
        _unbounded(spec, schema.get("items", {}), f"{where}[]", out, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        _unbounded(spec, sub, f"{where}.{name}", out, depth + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        _unbounded(spec, schema["additionalProperties"], f"{where}.*", out, depth + 1)


def test_every_api_input_has_a_documented_maximum(api):
    spec = api("admin").get("/api/v1/_openapi").get_json()
    problems: list[str] = []
    inputs = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for param in op.get("parameters", []):
                param = _resolve(spec, param)
                inputs += 1
                where = f"{method.upper()} {path} {param['in']}:{param['name']}"
                _unbounded(spec, param.get("schema", {}), where, problems)
            body = _resolve(spec, op.get("requestBody", {}))
            for content_type, media in body.get("content", {}).items():
                inputs += 1
                where = f"{method.upper()} {path} body({content_type})"
                _unbounded(spec, media.get("schema", {}), where, problems)
    assert inputs > 20  # the walk saw the API
    assert problems == [], "\n".join(problems)


def test_published_limits_are_the_enforced_ones(api):
    spec = api("admin").get("/api/v1/_openapi").get_json()
    schemas = spec["components"]["schemas"]
    create = schemas["CaseCreate"]["properties"]
    assert create["description"]["maxLength"] == limits.TEXT_LONG
    assert create["quantity_purchased"]["maximum"] == limits.QUANTITY
    assert create["customer"]["properties"]["name"]["maxLength"] == limits.TEXT_SHORT
    lines = schemas["CompensationEdit"]["properties"]["lines"]
    assert lines["maxItems"] == limits.COMPENSATION_LINES
    assert lines["items"]["properties"]["note"]["maxLength"] == limits.NOTE
    price = lines["items"]["properties"]["unit_price"]["oneOf"][0]
    assert Decimal(str(price["maximum"])) == limits.UNIT_PRICE
    assert schemas["CaseAction"]["properties"]["comment"]["maxLength"] == limits.TEXT_LONG
    transit = schemas["Details_logistics"]["properties"]["transit_days_actual"]
    assert transit["maximum"] == limits.DAYS  # a plugin's declared maximum is published


def test_every_model_column_has_a_maximum_or_is_written_only_by_kesu(app):
    plain = (sa.Boolean, sa.Date, sa.DateTime)
    unclassified, undersized = [], []
    for table in Model.metadata.tables.values():
        for column in table.columns:
            name = f"{table.name}.{column.name}"
            if column.primary_key or column.foreign_keys:
                continue
            if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Text):
                if not column.type.length:
                    unclassified.append(f"{name}: String without a length")
                continue
            if isinstance(column.type, plain) or type(column.type).__name__ == "UTCDateTime":
                continue
            if name not in limits.USER_COLUMNS and name not in limits.SYSTEM_COLUMNS:
                unclassified.append(name)
    # The spec-fed columns hold their field's maximum (nothing is cut or refused by the DB).
    from core import fields
    from core.services.cases import CORE_FIELDS, CUSTOMER_FIELDS
    from core.services.compensation import LINE_FIELDS

    for table, specs in (
        ("kesu_case", CORE_FIELDS),
        ("customer", CUSTOMER_FIELDS),
        ("compensation_line", LINE_FIELDS),
    ):
        columns = Model.metadata.tables[table].columns
        for spec in specs:
            column = columns.get(spec.name)
            length = getattr(column.type, "length", None) if column is not None else None
            if spec.type in ("string", "text") and length and length < fields.max_length(spec):
                undersized.append(f"{table}.{spec.name}")
    assert unclassified == []
    assert undersized == []


def _form_problems(form, where: str) -> list[str]:
    from wtforms import DecimalField, FloatField, IntegerField, StringField, TextAreaField
    from wtforms.validators import Length, NumberRange

    out = []
    for field in form:
        validators = list(field.validators or [])
        render = field.render_kw or {}
        if isinstance(field, (IntegerField, DecimalField, FloatField)):
            bounded = any(isinstance(v, NumberRange) and v.max is not None for v in validators)
            if not bounded and "max" not in render:
                out.append(f"{where}.{field.name}: number without maximum")
        elif isinstance(field, (StringField, TextAreaField)) and field.type not in (
            "HiddenField",
            "DateField",
            "DateTimeLocalField",
            "DateTimeField",
            "PasswordField",
        ):
            bounded = any(isinstance(v, Length) and v.max and v.max > 0 for v in validators)
            if not bounded and "maxlength" not in render:
                out.append(f"{where}.{field.name}: text without maximum")
    return out


def test_every_screen_form_field_has_a_maximum(app):
    from flask_appbuilder import ModelView

    from core import forms
    from core.services import cases as case_service
    from core.services.lines import line_facts, registry

    problems: list[str] = []
    with app.test_request_context():
        for view in app.appbuilder.baseviews:
            if not isinstance(view, ModelView):
                continue
            for kind in ("add_form", "edit_form"):
                form_class = getattr(view, kind, None)
                if form_class is not None:
                    problems += _form_problems(form_class(), f"{type(view).__name__}.{kind}")
        from core.models import BusinessLine

        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        facts = line_facts(line)
        for descriptor in registry().categories():
            sections = {
                None: case_service.CORE_FIELDS,
                forms.CUSTOMER: case_service.CUSTOMER_FIELDS,
                forms.DETAILS: case_service.plugin_field_specs(facts, descriptor.key),
            }
            problems += _form_problems(forms.build_form(sections)(), descriptor.key)
    assert problems == [], "\n".join(problems)


class _Inputs(HTMLParser):
    """The text and number inputs of a page that state no maximum (maxlength, max)."""

    EXEMPT = {"hidden", "submit", "button", "checkbox", "radio", "file", "password", "date"}
    EXEMPT |= {"datetime-local", "time", "month", "week", "color", "range", "reset", "image"}

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.unbounded: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        kind = (attrs.get("type") or "text").lower() if tag == "input" else tag
        if tag not in ("input", "textarea") or kind in self.EXEMPT:
            return
        self.seen += 1
        needed = "max" if kind == "number" else "maxlength"
        if not attrs.get(needed):
            self.unbounded.append(f"{tag} {attrs.get('name')} ({kind}) without {needed}")


def _unbounded_inputs(client, url: str) -> tuple[int, list[str]]:
    resp = client.get(url)
    assert resp.status_code == 200, url
    parser = _Inputs()
    parser.feed(resp.get_data(as_text=True))
    return parser.seen, [f"{url}: {problem}" for problem in parser.unbounded]


def test_every_input_on_the_screens_states_its_maximum(app, api, client):
    """Each screen with a form is rendered for a user who sees the form; every text or number
    input must carry maxlength or max (what the service enforces, from core/limits.py)."""
    from core.services.lines import registry

    new = api("agent").create_case()
    quality = proposal_of(api, "50.00")  # proposed: compensation, analysis and CAPA forms
    returns = api("agent").create_case(
        category="policy_returns",
        details={"sku": "P-100", "return_quantity": 1, "liable_party": "company"},
    )
    with app.app_context():
        categories = [d.key for d in registry().categories()]
    pages = {
        "agent": [
            "/cases/",
            f"/cases/{new['id']}",
            f"/cases/{new['id']}/edit",
            *(f"/cases/new?business_line=L1&category={key}" for key in categories),
        ],
        "supervisor": [f"/cases/{new['id']}"],
        "qa": [f"/cases/{quality['id']}"],
        "warehouse": [f"/cases/{returns['id']}"],
        "admin": [
            "/audit/",
            "/calendars/?business_line=L1",
            "/plugins/kesu_core/L1/settings",
            "/plugins/product_quality/L1/settings",
            "/plugins/major_incident/L1/settings",
            "/customerview/add",
            "/productview/add",
            "/businesslineview/add",
            "/departmentview/add",
            "/users/add",
        ],
    }
    problems: list[str] = []
    seen = 0
    for user, urls in pages.items():
        login(client, user)
        for url in urls:
            count, found = _unbounded_inputs(client, url)
            seen += count
            problems += found
    assert seen > 50  # the walk saw the forms
    assert problems == [], "\n".join(problems)


# -- (b) boundaries: at the maximum accepted, one over refused naming the field ------------------


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _refused(resp, field: str) -> None:
    body = resp.get_json()
    assert 400 <= resp.status_code < 500 and field in body.get("errors", {}), body


def test_a_comment_of_the_maximum_length_is_kept_one_more_is_refused(app, api):
    case = api("agent").create_case()
    events = _count(app, AuditEvent)
    over = api("agent").action(case["id"], "reject", comment="评" * (limits.TEXT_LONG + 1))
    _refused(over, "comment")
    assert _count(app, AuditEvent) == events
    done = act(api, case["id"], "agent", "reject", comment="评" * limits.TEXT_LONG)
    assert done["status"] == "rejected"


def test_a_case_description_at_the_limit_is_accepted_one_over_is_refused(app, api):
    cases = _count(app, Case)
    over = api("agent").post("/api/v1/case/", json=case_body(description="述" * 5001))
    _refused(over, "description")
    assert _count(app, Case) == cases
    api("agent").create_case(description="述" * limits.TEXT_LONG)
    assert _count(app, Case) == cases + 1


def _edit(api, case, lines):
    body = {"lines": lines, "reason": "调整", "version": case["version"]}
    return api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body)


def _lines(app) -> int:
    return _count(app, CompensationLine)


def test_a_compensation_note_at_the_limit_is_kept_one_over_is_refused(app, api):
    case = proposal_of(api, "50.00")
    rows = _lines(app)
    line = {"kind": "refund", "amount": "10.00"}
    _refused(_edit(api, case, [{**line, "note": "注" * (limits.NOTE + 1)}]), "lines.0.note")
    assert _lines(app) == rows
    resp = _edit(api, case, [{**line, "note": "注" * limits.NOTE}])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["compensation"][0]["note"] == "注" * limits.NOTE


def test_the_number_of_compensation_lines_is_limited(app, api):
    case = proposal_of(api, "50.00")
    rows = _lines(app)
    line = {"kind": "refund", "amount": "1.00"}
    _refused(_edit(api, case, [line] * (limits.COMPENSATION_LINES + 1)), "lines")
    assert _lines(app) == rows
    resp = _edit(api, case, [line] * limits.COMPENSATION_LINES)
    assert resp.status_code == 200, resp.get_json()
    assert _lines(app) == rows - 1 + limits.COMPENSATION_LINES


def test_quantity_times_price_and_the_case_total_are_limited(app, api):
    case = proposal_of(api, "50.00")
    rows = _lines(app)
    price = str(limits.UNIT_PRICE - Decimal("0.01"))  # 999,999.99
    # 200 × 999,999,999,999.99: the unit price alone is over its maximum
    huge = {"kind": "reship", "quantity": 200, "unit_price": "999999999999.99"}
    _refused(_edit(api, case, [huge]), "lines.0.unit_price")
    _refused(
        _edit(api, case, [{**huge, "unit_price": str(limits.UNIT_PRICE + 1)}]), "lines.0.unit_price"
    )
    # 101 × 999,999.99 = 100,999,998.99 is over the amount a line may have
    _refused(_edit(api, case, [{**huge, "quantity": 101, "unit_price": price}]), "lines.0.amount")
    # two lines that are each fine but together one fen over the case total
    whole = {"kind": "refund", "amount": str(limits.CASE_TOTAL)}
    _refused(_edit(api, case, [whole, {"kind": "refund", "amount": "0.01"}]), "lines")
    assert _lines(app) == rows
    # at the boundaries: 100 × 999,999.99 and a total of exactly the maximum
    resp = _edit(api, case, [{**huge, "quantity": 100, "unit_price": price}])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["result"]["compensation_total"] == "99999999.00"
    case = resp.get_json()["result"]
    resp = _edit(api, case, [whole])
    assert resp.status_code == 200, resp.get_json()
    assert Decimal(resp.get_json()["result"]["compensation_total"]) == limits.CASE_TOTAL


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("9999-12-31", False),
        ("1999-12-31", False),
        (limits.DATE_MIN.isoformat(), True),
        ("latest", True),
        ("latest+1", False),
    ],
)
def test_a_purchase_date_is_between_2000_and_tomorrow(app, api, value, accepted):
    latest = limits.date_max()
    value = {
        "latest": latest.isoformat(),
        "latest+1": (latest + dt.timedelta(days=1)).isoformat(),
    }.get(value, value)
    cases = _count(app, Case)
    resp = api("agent").post("/api/v1/case/", json=case_body(purchase_date=value))
    if accepted:
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["result"]["purchase_date"] == value
        assert _count(app, Case) == cases + 1
    else:
        _refused(resp, "purchase_date")
        assert _count(app, Case) == cases


def test_a_quantity_over_its_maximum_is_refused(app, api):
    cases = _count(app, Case)
    over = api("agent").post(
        "/api/v1/case/", json=case_body(quantity_purchased=limits.QUANTITY + 1)
    )
    _refused(over, "quantity_purchased")
    assert _count(app, Case) == cases
    assert api("agent").create_case(quantity_purchased=limits.QUANTITY)["quantity_purchased"] == (
        limits.QUANTITY
    )


def test_the_core_enforces_a_plugins_declared_maximum(app, api, temp_plugin):
    from core.contracts import FieldSpec

    def fields(line, category):
        if category != "sized":
            return None
        return [
            FieldSpec("code", "string", "code", max_length=8),
            FieldSpec("count", "integer", "count", max_value=5),
        ]

    temp_plugin(make_plugin("sized", kesu_case_fields=fields))
    cases = _count(app, Case)
    for details, field in (({"code": "x" * 9}, "details.code"), ({"count": 6}, "details.count")):
        resp = api("agent").post("/api/v1/case/", json=case_body(category="sized", details=details))
        _refused(resp, field)
    assert _count(app, Case) == cases
    case = api("agent").create_case(category="sized", details={"code": "x" * 8, "count": 5})
    assert case["details"] == {"code": "x" * 8, "count": 5}
    with pytest.raises(ValueError, match="max_length"):
        FieldSpec("huge", "text", "huge", max_length=limits.TEXT_LONG + 1)


def test_the_intake_screen_shows_the_error_on_the_field_and_saves_nothing(app, client):
    login(client, "agent")
    cases = _count(app, Case)
    page = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={
            "submit_case": "1",
            "business_line": "L1",
            "category": "logistics",
            "customer__name": "上海经销商",
            "channel": "phone",
            "description": "述" * (limits.TEXT_LONG + 1),
            "purchase_date": "9999-12-31",
            "details__problem": "delay",
        },
    ).get_data(as_text=True)
    assert 'data-field="description"' in page and 'data-field="purchase_date"' in page
    assert f'maxlength="{limits.TEXT_LONG}"' in page
    assert _count(app, Case) == cases


def test_the_product_screen_refuses_a_unit_price_over_the_maximum(app, client):
    from core.models import BusinessLine, Product

    with app.app_context():
        line_id = db.session.scalar(sa.select(BusinessLine.id).where(BusinessLine.code == "L1"))
    login(client, "admin")
    products = _count(app, Product)
    data = {"business_line": str(line_id), "code": "BIG", "name": "大件"}
    client.post("/productview/add", data={**data, "unit_price": str(limits.UNIT_PRICE + 1)})
    assert _count(app, Product) == products
    client.post("/productview/add", data={**data, "unit_price": str(limits.UNIT_PRICE)})
    assert _count(app, Product) == products + 1


def test_other_texts_one_over_their_maximum_are_refused_naming_them(app, api, client):
    from core.models import Evidence
    from tests.test_evidence import PNG, upload

    case = api("agent").create_case()
    events, files = _count(app, AuditEvent), _count(app, Evidence)
    over = "字" * (limits.TEXT_LONG + 1)
    priority = {"priority": "P1", "reason": over}
    _refused(api("supervisor").post(f"/api/v1/case/{case['id']}/priority", json=priority), "reason")
    _refused(upload(api("agent"), case["id"], PNG, source="源" * 201), "source")
    _refused(api("agent").get(f"/api/v1/case/?q={'号' * (limits.SEARCH + 1)}"), "q")
    login_body = {"username": "u" * (limits.USERNAME + 1), "password": "x"}
    _refused(client.post("/api/v1/security/login", json=login_body), "username")
    assert (_count(app, AuditEvent), _count(app, Evidence)) == (events, files)
    at_max = {"priority": "P1", "reason": "字" * limits.TEXT_LONG}
    assert (
        api("supervisor").post(f"/api/v1/case/{case['id']}/priority", json=at_max).status_code
        == 200
    )
    assert api("agent").get(f"/api/v1/case/?q={'号' * limits.SEARCH}").status_code == 200


def test_a_case_takes_at_most_the_maximum_of_evidence_files(app, api, monkeypatch):
    from core.models import Evidence
    from tests.test_evidence import PNG, upload

    monkeypatch.setattr(limits, "EVIDENCE_FILES", 2)  # the rule, at a size a test can reach
    case = api("agent").create_case()
    for _ in range(2):
        assert upload(api("agent"), case["id"], PNG).status_code == 201
    files, events = _count(app, Evidence), _count(app, AuditEvent)
    _refused(upload(api("agent"), case["id"], PNG), "file")
    assert (_count(app, Evidence), _count(app, AuditEvent)) == (files, events)


def test_a_compensation_reason_over_its_maximum_is_refused(app, api):
    case = proposal_of(api, "50.00")
    rows, events = _lines(app), _count(app, AuditEvent)
    body = {"lines": [], "reason": "因" * (limits.TEXT_LONG + 1)}
    _refused(api("qa").put(f"/api/v1/case/{case['id']}/compensation", json=body), "reason")
    assert (_lines(app), _count(app, AuditEvent)) == (rows, events)
