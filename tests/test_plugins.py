"""Plugin discovery, per-line enablement, and the example third-party plugin."""

from __future__ import annotations

import textwrap

import pluggy
import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from core.plugins import PluginError, PluginRegistry
from tests.conftest import case_body, make_app, make_plugin

BUILT_INS = {
    "logistics",
    "product_quality",
    "policy_returns",
    "terminal_consumer",
    "major_incident",
}


def install_distribution(tmp_path, monkeypatch, module: str, source: str, name: str | None = None):
    """Install a plugin like a package would be: a module plus a dist-info with the entry point."""
    name = name or module
    root = tmp_path / "site"
    root.mkdir(exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[kesu.plugins]\n{name} = {module}\n")
    monkeypatch.syspath_prepend(str(root))


DESCRIPTOR_SOURCE = """
from core import hookimpl
from core.contracts import PluginDescriptor

@hookimpl
def kesu_plugin_descriptor():
    return PluginDescriptor(key="{key}", name_zh="{key}", name_en="{key}", version="1.0"{extra})
"""


def test_hook_kesu_plugin_descriptor(app):
    registry = app.extensions["kesu_plugins"]
    assert set(registry.keys) == BUILT_INS
    quality = registry.descriptors["product_quality"]
    assert quality.name_zh == "产品质量" and quality.name_en == "Product quality"
    assert quality.version and quality.category
    assert not registry.descriptors["major_incident"].category
    assert {d.key for d in registry.categories()} == BUILT_INS - {"major_incident"}


def test_env_variable_loads_only_named_plugins(tmp_path, template_db, monkeypatch):
    monkeypatch.setenv("KESU_PLUGINS", "logistics,major_incident")
    app = make_app(tmp_path, template_db)
    assert app.extensions["kesu_plugins"].keys == ["logistics", "major_incident"]
    assert PluginRegistry(["logistics"]).keys == ["logistics"]


def test_misspelt_hook_fails_at_start_up(tmp_path, template_db, monkeypatch):
    source = DESCRIPTOR_SOURCE.format(key="typo", extra="") + textwrap.dedent(
        """
        @hookimpl
        def kesu_case_feilds(line, category):
            return []
        """
    )
    install_distribution(tmp_path, monkeypatch, "kesu_typo", source, name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="kesu_case_feilds"):
        make_app(tmp_path, template_db)


@pytest.mark.parametrize(
    ("key", "entry_name", "extra", "message"),
    [
        ("other", "mismatch", "", "differs from its entry-point name"),
        ("needy", "needy", ', depends=("nonexistent",)', "not installed"),
    ],
)
def test_bad_descriptors_fail_at_start_up(
    tmp_path, template_db, monkeypatch, key, entry_name, extra, message
):
    install_distribution(
        tmp_path,
        monkeypatch,
        f"kesu_{entry_name}",
        DESCRIPTOR_SOURCE.format(key=key, extra=extra),
        name=entry_name,
    )
    with pytest.raises(PluginError, match=message):
        make_app(tmp_path, template_db)


def test_plugin_without_descriptor_fails(tmp_path, template_db, monkeypatch):
    install_distribution(tmp_path, monkeypatch, "kesu_bare", "x = 1\n", name="bare")
    with pytest.raises(PluginError, match="kesu_plugin_descriptor"):
        make_app(tmp_path, template_db)


# -- enablement per business line ----------------------------------------------------------------


def test_cli_lists_enables_and_disables(app, runner):
    listed = runner.invoke(args=["plugins", "list"])
    assert listed.exit_code == 0
    for key in BUILT_INS:
        assert key in listed.output
    assert "产品质量 / Product quality" in listed.output

    result = runner.invoke(args=["plugins", "enable", "policy_returns", "--line", "L2"])
    assert result.exit_code == 0 and "enabled on L2" in result.output
    again = runner.invoke(args=["plugins", "enable", "policy_returns", "--line", "L2"])
    assert "already enabled" in again.output
    result = runner.invoke(args=["plugins", "disable", "policy_returns", "--line", "L2"])
    assert result.exit_code == 0 and "disabled on L2" in result.output
    with app.app_context():
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.entity == "business_line")
            )
        )
    assert actions[-2:] == ["plugin_enable", "plugin_disable"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plugins", "enable", "weather", "--line", "L1"], "未知插件"),
        (["plugins", "enable", "logistics", "--line", "NOPE"], "未知业务线"),
    ],
)
def test_cli_refuses_unknown_names(runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output


def test_dependencies_are_respected(app, runner, temp_plugin):
    registry = app.extensions["kesu_plugins"]
    from core import hookimpl
    from core.contracts import PluginDescriptor

    class Addon:
        @staticmethod
        @hookimpl
        def kesu_plugin_descriptor():
            return PluginDescriptor(
                "quality_addon",
                "质量扩展",
                "Quality add-on",
                "1.0",
                depends=("product_quality",),
                category=False,
            )

    registry.register(Addon(), "quality_addon")
    result = runner.invoke(args=["plugins", "enable", "quality_addon", "--line", "L2"])
    assert result.exit_code != 0 and "product_quality" in result.output
    assert runner.invoke(args=["plugins", "enable", "quality_addon", "--line", "L1"]).exit_code == 0
    result = runner.invoke(args=["plugins", "disable", "product_quality", "--line", "L1"])
    assert result.exit_code != 0 and "quality_addon" in result.output


def test_disabled_category_hides_from_intake_and_keeps_cases_readable(api, runner):
    case = api("agent").create_case(category="policy_returns")
    fields = api("agent").get("/api/v1/case/fields?business_line=L1").get_json()
    assert "policy_returns" in [c["key"] for c in fields["categories"]]

    assert (
        runner.invoke(args=["plugins", "disable", "policy_returns", "--line", "L1"]).exit_code == 0
    )
    fields = api("agent").get("/api/v1/case/fields?business_line=L1").get_json()
    assert "policy_returns" not in [c["key"] for c in fields["categories"]]
    resp = api("agent").post("/api/v1/case/", json=case_body(category="policy_returns"))
    assert resp.status_code == 400 and "category" in resp.get_json()["errors"]

    read = api("agent").get(f"/api/v1/case/{case['id']}")
    assert read.status_code == 200
    assert read.get_json()["result"]["allowed_actions"] == []
    assert api("agent").action(case["id"], "accept").status_code == 409
    assert (
        api("agent")
        .put(f"/api/v1/case/{case['id']}", json={"description": "x", "version": 1})
        .status_code
        == 409
    )


def test_category_hooks_run_only_where_enabled(api, temp_plugin):
    seen = []

    def issues(case):
        seen.append((case.category, case.line.code))
        return None

    temp_plugin(make_plugin("watcher", kesu_acceptance_issues=issues))
    api("agent").create_case(category="watcher")
    api("agent").create_case(category="logistics")
    api("agent2").create_case(business_line="L2", product="B-200", customer={"name": "成都经销商"})
    assert seen == [("watcher", "L1")]


def test_cross_cutting_hooks_run_for_every_case_of_enabled_lines(api, temp_plugin):
    temp_plugin(make_plugin("press", category=False, kesu_major_reasons=lambda case: ["media"]))
    on_l1 = api("agent").create_case(category="logistics")
    on_l2 = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商"}
    )
    assert on_l1["is_major"] and on_l1["major_reasons"] == ["media"] and on_l1["priority"] == "P1"
    assert not on_l2["is_major"] and on_l2["priority"] == "P3"


# -- the example third-party plugin ------------------------------------------------------------


@pytest.fixture
def service_app(tmp_path, template_db, third_party_plugin):
    app = make_app(tmp_path, template_db)
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["plugins", "enable", "service_complaint", "--line", "L1"]).exit_code
        == 0
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def service_api(service_app):
    from tests.conftest import Api

    client = service_app.test_client()
    return lambda username: Api(client, username)


def test_third_party_plugin_is_discovered_through_its_entry_point(service_app):
    registry = service_app.extensions["kesu_plugins"]
    assert "service_complaint" in registry.keys
    assert registry.descriptors["service_complaint"].name_zh == "服务投诉"


def test_third_party_category_appears_in_the_api_only_where_enabled(service_api):
    l1 = service_api("agent").get("/api/v1/case/fields?business_line=L1").get_json()
    service = next(c for c in l1["categories"] if c["key"] == "service_complaint")
    assert service["name"] == "服务投诉"
    # its own fields, and those of the cross-cutting major-incident plugin enabled on L1
    assert set(service["details"]["properties"]) == {
        "service_area",
        "stay_date",
        "regulator_involved",
        "media_involved",
        "safety_risk",
        "medical_cost",
    }
    assert service["details"]["properties"]["service_area"]["description"] == "服务区域"
    l2 = service_api("agent2").get("/api/v1/case/fields?business_line=L2").get_json()
    assert "service_complaint" not in [c["key"] for c in l2["categories"]]
    resp = service_api("agent2").post(
        "/api/v1/case/",
        json=case_body(
            business_line="L2",
            category="service_complaint",
            product="B-200",
            customer={"name": "成都经销商"},
            details={"service_area": "catering"},
        ),
    )
    assert resp.status_code == 400 and "category" in resp.get_json()["errors"]


def test_third_party_field_check_and_compensation(service_api):
    agent = service_api("agent")
    resp = agent.post("/api/v1/case/", json=case_body(category="service_complaint"))
    assert resp.status_code == 400
    assert "details.service_area" in resp.get_json()["errors"]

    late = agent.create_case(
        category="service_complaint",
        received_at="2026-11-20T10:00:00",
        details={"service_area": "housekeeping", "stay_date": "2026-10-20"},
    )
    assert [i["code"] for i in late["acceptance_issues"]] == ["late_report"]
    in_time = agent.create_case(
        category="service_complaint",
        received_at="2026-11-20T10:00:00",
        claim_amount="500",
        details={"service_area": "housekeeping", "stay_date": "2026-10-21"},
    )
    assert in_time["acceptance_issues"] == []
    cid = in_time["id"]
    agent.action(cid, "accept")
    service_api("supervisor").action(cid, "assign", department="QA")
    proposed = (
        service_api("qa").action(cid, "propose", root_cause="客房未打扫").get_json()["result"]
    )
    assert [(c["kind"], c["amount"]) for c in proposed["compensation"]] == [("refund", "200.00")]
