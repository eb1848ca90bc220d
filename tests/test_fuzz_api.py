"""Fuzzing (issue 8, check 2): the API against its own OpenAPI document, and the HTML forms.

- Schemathesis generates requests for every operation of ``/api/v1/_openapi`` (valid and
  invalid ones), as an Admin and as a CS Agent, on the test's throwaway database: no answer may
  be a 5xx, and every status code, content type and body must be the ones the document gives.
- Hypothesis fills the registration, action-comment, compensation and customer forms with
  hostile values (huge numbers, lone surrogates, deep JSON-like text, years 1 and 9999,
  non-ASCII digits): never a 5xx, and a refused form writes nothing.

Both are bounded (``KESU_FUZZ_EXAMPLES`` examples per operation and mode, 8 by default) and
derandomized, so a run in CI is reproducible.
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.extensions import db
from core.models import AuditEvent, Case, Customer
from tests.conftest import signed_in
from tests.plugin_helpers import proposed_case, read

EXAMPLES = int(os.environ.get("KESU_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]):
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return run


def test_api_answers_as_its_openapi_document_says(app, api):
    users = {username: api(username).headers for username in ("admin", "agent")}
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=users["admin"])
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for username, headers in users.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _fuzz(operation, mode, headers)()
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
                    failures.append(f"{operation.label} as {username}, {mode.value}:\n{exc}")
    assert operations >= 20  # the document lists the core's and the plugins' operations
    assert not failures, "\n\n".join(failures)


# -- the HTML forms --------------------------------------------------------------------------

HOSTILE = [
    str(2**63),
    str(2**64),
    "-" + str(2**64),
    "9" * 40,
    "1e28",
    "1E+400",
    "NaN",
    "-Infinity",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59+14:00",
    "²",
    "١٢",
    "１２",
    "[" * 2000 + "]" * 2000,
    '{"a":' * 1000 + "1" + "}" * 1000,
    "\ud800",
    "x\udfffy",
    "<script>document.title='xss'</script>",
    "\x00",
]
hostile = st.sampled_from(HOSTILE)


def _encode(form: dict[str, str]) -> str:
    """A urlencoded body; lone surrogates go out as the bytes a browser would send for them."""
    return "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in form.items()
    )


def post_form(client, path: str, form: dict[str, str]):
    return client.post(path, data=_encode(form), content_type="application/x-www-form-urlencoded")


def form_fields(client, path: str) -> list[str]:
    page = client.get(path).get_data(as_text=True)
    names = re.findall(r'<(?:input|select|textarea)[^>]*\sname="([^"]+)"', page)
    return sorted(set(names) - {"csrf_token", "submit_case"})


def written(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Case, Customer, AuditEvent)
        )


def test_registration_form_with_hostile_values(app):
    client = signed_in(app, "agent")
    start = "/cases/new?business_line=L1&category=logistics"
    fields = [f for f in form_fields(client, start) if f not in ("business_line", "category")]
    assert {"quantity_purchased", "purchase_date", "claim_amount", "customer__name"} <= set(fields)
    valid = {
        "channel": "phone",
        "description": "外箱破损",
        "customer__name": "上海经销商",
        "details__problem": "delay",
    }

    @FUZZ
    @given(
        st.fixed_dictionaries({f: st.one_of(hostile, st.just(valid.get(f, ""))) for f in fields})
    )
    def run(form):
        before = written(app)
        resp = post_form(client, start, {**form, "submit_case": "1"})
        assert resp.status_code < 500, form
        if resp.status_code != 302:  # refused (a 4xx or the form again): nothing written
            assert written(app) == before, form

    run()


def test_action_comment_form_with_hostile_values(app, api):
    case = api("agent").create_case()
    client = signed_in(app, "agent")

    @FUZZ
    @given(comment=hostile, version=st.sampled_from([v for v in HOSTILE if v != "1"]))
    def run(comment, version):
        before = written(app)
        resp = post_form(
            client, f"/cases/{case['id']}/action/hold", {"comment": comment, "version": version}
        )
        assert resp.status_code < 500
        assert written(app) == before  # the version is never the case's: refused
        assert read(api, case["id"])["status"] == "new"

    run()


def test_compensation_form_with_hostile_values(app, api):
    case = proposed_case(api)
    client = signed_in(app, "qa")

    @FUZZ
    @given(quantity=hostile, unit_price=hostile, amount=hostile, note=hostile)
    def run(quantity, unit_price, amount, note):
        before = written(app)
        form = {
            "version": str(case["version"]),
            "reason": "r",
            "kind-0": "reship",
            "quantity-0": quantity,
            "unit_price-0": unit_price,
            "amount-0": amount,
            "note-0": note,
        }
        resp = post_form(client, f"/cases/{case['id']}/compensation", form)
        assert resp.status_code < 500
        assert written(app) == before  # no hostile quantity is a whole number in range
        assert read(api, case["id"])["compensation_total"] == "5.00"

    run()


def test_customer_form_with_hostile_values(app):
    client = signed_in(app, "admin")
    fields = form_fields(client, "/customerview/add")
    assert {"name", "phone", "business_line"} <= set(fields)
    valid = {"name": "杭州新客户", "business_line": "1", "kind": "dealer"}

    @FUZZ
    @given(
        st.fixed_dictionaries({f: st.one_of(hostile, st.just(valid.get(f, ""))) for f in fields})
    )
    def run(form):
        before = written(app)
        resp = post_form(client, "/customerview/add", form)
        assert resp.status_code < 500, form
        if resp.status_code != 302:
            assert written(app) == before, form

    run()


@pytest.mark.parametrize("value", ["\ud800", "x\udfffy"])
def test_surrogate_bytes_in_a_form_do_not_reach_the_database(app, value):
    """A browser sends a lone surrogate as bytes that are not UTF-8; they must not be a 500."""
    client = signed_in(app, "admin")
    before = written(app)
    resp = post_form(client, "/customerview/add", {"name": value, "business_line": "1"})
    assert resp.status_code < 500
    with app.app_context():
        names = db.session.scalars(sa.select(Customer.name)).all()
    assert all(not re.search("[\ud800-\udfff]", n) for n in names)
    if resp.status_code >= 400:  # a refused form writes nothing
        assert written(app) == before
