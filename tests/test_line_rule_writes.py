"""The record rule on writes of reference data: checked on the values after the change.

A record may be written only when every business line it had before and has after the
change is one of the writer's; the admin screens' pickers offer only the writer's lines and
their records; a column a role sees masked cannot be sorted or filtered on.
"""

from __future__ import annotations

import inspect
import re

import pytest
import sqlalchemy as sa
from flask_appbuilder import ModelView

from core.extensions import db
from core.models import BusinessLine, Customer, LinePosition, Product
from core.services import records
from core.services.errors import Forbidden
from tests.conftest import login
from tests.test_api_cases import counts


def ids(app) -> dict[str, int]:
    with app.app_context():
        line = {
            code: db.session.scalar(sa.select(BusinessLine.id).where(BusinessLine.code == code))
            for code in ("L1", "L2")
        }
        return {
            "L1": line["L1"],
            "L2": line["L2"],
            "customer1": db.session.scalar(
                sa.select(Customer.id).where(Customer.business_line_id == line["L1"])
            ),
            "customer2": db.session.scalar(
                sa.select(Customer.id).where(Customer.business_line_id == line["L2"])
            ),
            "product1": db.session.scalar(
                sa.select(Product.id).where(Product.business_line_id == line["L1"])
            ),
        }


def customer_line(app, customer_id: int) -> int:
    with app.app_context():
        db.session.expire_all()
        return db.session.get(Customer, customer_id).business_line_id


def test_an_agent_cannot_move_an_own_customer_into_a_foreign_line(app, client):
    """Defect 2: the check read business_line_id before the form's change was flushed."""
    known = ids(app)
    login(client, "agent")
    before = counts(app)
    client.post(
        f"/customerview/edit/{known['customer1']}",
        data={"business_line": str(known["L2"]), "name": "上海经销商", "kind": "dealer"},
    )
    assert customer_line(app, known["customer1"]) == known["L1"]
    assert counts(app) == before
    # The same move through FAB's related-view filter (the form fills excluded columns from it).
    client.post(
        f"/customerview/edit/{known['customer1']}?_flt_0_business_line={known['L2']}",
        data={"name": "上海经销商", "kind": "dealer"},
    )
    assert customer_line(app, known["customer1"]) == known["L1"]
    assert counts(app) == before


def test_the_product_screen_cannot_move_a_product_either(app, client):
    known = ids(app)
    login(client, "agent")  # agents may not edit products at all
    client.post(
        f"/productview/edit/{known['product1']}",
        data={"business_line": str(known["L2"]), "code": "P-100", "name": "x"},
    )
    login(client, "admin")
    resp = client.post(
        f"/productview/edit/{known['product1']}",
        data={"business_line": str(known["L2"]), "code": "P-100", "name": "外墙乳胶漆"},
    )
    assert resp.status_code == 302  # an admin may move it: every line is theirs
    with app.app_context():
        assert db.session.get(Product, known["product1"]).business_line_id == known["L2"]


def test_an_own_customer_edit_within_the_line_still_works(app, client):
    known = ids(app)
    login(client, "agent")
    resp = client.post(
        f"/customerview/edit/{known['customer1']}",
        data={"business_line": str(known["L1"]), "name": "上海经销商", "kind": "key_account"},
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, known["customer1"]).kind == "key_account"


def test_service_layer_checks_old_and_new_line(app):
    """records.save is the one place: both the line before and the line after must be the actor's."""
    known = ids(app)
    with app.app_context():
        from core.models import KesuUser

        agent = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "agent"))
        l2 = db.session.get(BusinessLine, known["L2"])
        customer = db.session.get(Customer, known["customer1"])
        customer.business_line = l2  # through the relationship
        with pytest.raises(Forbidden):
            records.save(agent, customer, "customer")
        db.session.rollback()
        customer = db.session.get(Customer, known["customer1"])
        customer.business_line_id = known["L2"]  # through the column
        with pytest.raises(Forbidden):
            records.save(agent, customer, "customer")
        db.session.rollback()
        foreign = db.session.get(Customer, known["customer2"])
        foreign.business_line_id = known["L1"]  # pulling a foreign record into an own line
        with pytest.raises(Forbidden):
            records.save(agent, foreign, "customer")
        db.session.rollback()
        assert db.session.get(Customer, known["customer1"]).business_line_id == known["L1"]
        assert db.session.get(Customer, known["customer2"]).business_line_id == known["L2"]


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))


@pytest.mark.parametrize(
    "url", ["/customerview/add", "/customerview/edit/{customer1}", "/productview/add"]
)
def test_pickers_list_only_the_users_lines(app, client, url):
    known = ids(app)
    login(client, "agent" if "customer" in url else "admin")
    page = client.get(url.format(**known)).get_data(as_text=True)
    offered = {v for v in _options(page, "business_line") if v and v != "__None"}
    if "customer" in url:
        assert offered == {str(known["L1"])}
    else:
        assert offered == {str(known["L1"]), str(known["L2"])}


def test_search_picker_lists_only_the_users_lines(app, client):
    login(client, "agent2")
    page = client.get("/customerview/list/").get_data(as_text=True)
    assert "华彩涂料" not in page  # L1's name: neither a row nor a search choice
    assert "清泉饮料" in page


def test_a_foreign_line_picked_on_add_is_refused_by_the_form(app, client):
    known = ids(app)
    login(client, "agent2")
    before = counts(app)
    resp = client.post(
        "/customerview/add",
        data={"business_line": str(known["L1"]), "name": "越界客户", "kind": "dealer"},
    )
    assert resp.status_code == 200  # the form again, nothing written
    assert counts(app) == before


def test_position_pickers_follow_the_line_rule(app, client):
    """Positions are an admin screen; its pickers still apply the rule (every line for admins)."""
    login(client, "admin")
    page = client.get("/linepositionview/add").get_data(as_text=True)
    assert len([v for v in _options(page, "business_line") if v != "__None"]) == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LinePosition)) > 0


# -- masked columns ---------------------------------------------------------------------------


def _order_links(page: str) -> set[str]:
    return set(re.findall(r"_oc_CustomerView=(\w+)", page))


@pytest.mark.parametrize("username", ["finance", "agent"])
def test_sorting_by_a_masked_column_is_offered_only_unmasked(app, client, username):
    login(client, username)
    page = client.get("/customerview/list/").get_data(as_text=True)
    links = _order_links(page)
    assert "name" in links
    if username == "finance":  # sees phone and e-mail masked
        assert not links & {"phone", "email"}
    else:
        assert {"phone", "email"} <= links


def _listed_names(page: str) -> list[str]:
    return re.findall(r"(上海经销商|杭州客户[AB])", page)


def test_order_and_filter_params_on_masked_columns_are_ignored(app, client):
    """Sorting by phone would reveal the masked digits' order: the parameter is ignored."""
    known = ids(app)
    login(client, "admin")
    for name, phone in (("杭州客户A", "13900000001"), ("杭州客户B", "13000000009")):
        resp = client.post(
            "/customerview/add",
            data={
                "business_line": str(known["L1"]),
                "name": name,
                "kind": "dealer",
                "phone": phone,
            },
        )
        assert resp.status_code == 302
    login(client, "finance")
    plain = _listed_names(client.get("/customerview/list/").get_data(as_text=True))
    assert {"杭州客户A", "杭州客户B"} <= set(plain)
    for direction in ("asc", "desc"):
        page = client.get(
            f"/customerview/list/?_oc_CustomerView=phone&_od_CustomerView={direction}"
        ).get_data(as_text=True)
        assert _listed_names(page) == plain
    page = client.get("/customerview/list/?_flt_0_phone=13900000001").get_data(as_text=True)
    assert set(_listed_names(page)) == set(plain)  # the filter was not applied
    login(client, "agent")  # sees contacts: may sort by them
    asc = _listed_names(
        client.get("/customerview/list/?_oc_CustomerView=phone&_od_CustomerView=asc").get_data(
            as_text=True
        )
    )
    assert asc.index("杭州客户B") < asc.index("杭州客户A")


def test_api_refuses_order_and_filters_on_masked_columns(api):
    finance, agent = api("finance"), api("agent")
    for column in ("phone", "email"):
        resp = finance.get(f"/api/v1/customer/?q=(order_column:{column},order_direction:asc)")
        assert resp.status_code == 400, column
        resp = finance.get(f"/api/v1/customer/?q=(filters:!((col:{column},opr:sw,value:'138')))")
        assert resp.status_code == 400, column
        assert (
            agent.get(
                f"/api/v1/customer/?q=(order_column:{column},order_direction:asc)"
            ).status_code
            == 200
        )
    assert (
        finance.get("/api/v1/customer/?q=(order_column:name,order_direction:asc)").status_code
        == 200
    )


# -- Flask-AppBuilder attribute names -------------------------------------------------------

# Attribute families Flask-AppBuilder reads from a view class; a misspelt one is silently unused.
FAB_FAMILIES = re.compile(
    r".*(_columns|_fields|_fieldsets|_filters|_order|_title|_template|_widget|_permissions"
    r"|_permission_name|_rel_fields)$"
)


# Kesu's own view attributes (read by Kesu's mixins, not by Flask-AppBuilder).
KESU_ATTRIBUTES = {"masked_columns", "select_fields"}


def _fab_base(cls):
    """The nearest Flask-AppBuilder class the view derives from (what reads its attributes)."""
    return next(c for c in inspect.getmro(cls) if c.__module__.startswith("flask_appbuilder"))


def unknown_attributes(view_classes) -> list[str]:
    unknown = []
    for view in view_classes:
        base = _fab_base(view)
        known = {name for c in inspect.getmro(base) for name in vars(c)} | KESU_ATTRIBUTES
        for cls in inspect.getmro(view):
            if not cls.__module__.startswith(("core.", "plugins.", "kesu")):
                continue
            for name, value in vars(cls).items():
                if name.startswith("_") or not FAB_FAMILIES.match(name) or callable(value):
                    continue  # callables are exposed methods, e.g. CaseApi.intake_fields
                if name not in known:
                    unknown.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    return sorted(set(unknown))


def test_views_set_only_attribute_names_flask_appbuilder_knows(app):
    """``add_query_rel_fields`` on a ModelView is silently ignored (its name there is
    ``add_form_query_rel_fields``): every such attribute must exist on the FAB base class."""
    unknown = unknown_attributes([type(view) for view in app.appbuilder.baseviews])
    assert not unknown, f"attributes Flask-AppBuilder does not read: {unknown}"


def test_the_name_check_itself_catches_the_old_spelling():
    class Wrong(ModelView):
        add_query_rel_fields = {}
        edit_form_query_rel_fields = {}

    Wrong.__module__ = "core.views.example"
    assert unknown_attributes([Wrong]) == [
        "core.views.example.test_the_name_check_itself_catches_the_old_spelling.<locals>"
        ".Wrong.add_query_rel_fields"
    ]
