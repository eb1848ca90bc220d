"""The case list at any size: keyset pages, a capped count, the kept next deadline, search.

The API and the screen page by position (``after``): while cases are registered between two
pages, every case that was there at the start is listed exactly once, in order. A page costs
the same statements for 10 cases as for 500, whatever the filter or sort.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.models import Case, CaseDeadline, KesuUser
from core.services.access import SYSTEM
from core.services.setup import create_user
from tests.conftest import PASSWORD, keep_next_deadlines, signed_in
from tests.test_sql_counts import add_cases, counting, statements

LISTS = (
    "",
    "category=product_quality",
    "overdue=true",
    "sort=deadline",
    "overdue=true&sort=deadline",
    "status=investigating",
    "q=T000",
    "is_major=true",
)
ON_L2 = {"business_line": "L2", "product": "B-200", "customer": {"name": "成都经销商"}}


def dealer(name: str) -> dict:
    return {"name": name, "kind": "dealer"}


def api_statements(app, client, url: str) -> tuple[int, int]:
    """(statements sent while ``url`` answered, the cases it listed), the second time asked."""
    assert client.get(url).status_code == 200
    with counting(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200, resp.get_json()
    return len(seen), len(resp.get_json()["result"])


def walk(client, url: str, between=None) -> list[dict]:
    """Every case of the API list, page after page; ``between`` runs after each page."""
    out: list[dict] = []
    after = None
    for _ in range(200):
        sep = "&" if "?" in url else "?"
        body = client.get(url + (f"{sep}after={after}" if after else "")).get_json()
        out += body["result"]
        after = body["next"]
        if after is None:
            return out
        if between:
            between()
    raise AssertionError("the list did not end")


def next_due_by_rows(app) -> dict[int, tuple]:
    """Per case, the soonest running deadline as its deadline rows say."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(CaseDeadline.case_id, CaseDeadline.due_at, CaseDeadline.name).where(
                CaseDeadline.state == "running"
            )
        ).all()
        out: dict[int, tuple] = {
            cid: (None, None) for cid in db.session.scalars(sa.select(Case.id))
        }
        for cid, due, name in sorted(rows, key=lambda r: (r.case_id, r.due_at, r.name)):
            if out[cid][0] is None:
                out[cid] = (due, name)
        kept = {
            cid: (due, name)
            for cid, due, name in db.session.execute(
                sa.select(Case.id, Case.next_due_at, Case.next_due_name)
            )
        }
        db.session.remove()
    return {"rows": out, "kept": kept}


# -- statements ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", LISTS)
def test_an_api_page_costs_the_same_statements_for_10_and_500_cases(app, api, query):
    add_cases(app, 10)
    client = api("agent")
    url = f"/api/v1/case/?page_size=100&{query}"
    small, listed_small = api_statements(app, client, url)
    add_cases(app, 490)
    large, listed_large = api_statements(app, client, url)
    assert listed_small <= 10 and listed_large > listed_small  # the larger page has more rows
    assert small == large
    following = client.get(url).get_json()["next"]
    if following:  # a later page costs what the first does
        later, _ = api_statements(app, client, f"{url}&after={following}")
        assert later == large


# -- keyset paging -----------------------------------------------------------------------------


def test_paging_skips_and_repeats_nothing_while_cases_arrive(app, api):
    agent = api("agent")
    before = [agent.create_case(batch_no=f"PAGE-{n}")["id"] for n in range(23)]
    arrivals = iter(range(100))

    def register():  # a new case, and one received earlier than every listed one
        agent.create_case(batch_no=f"LATE-{next(arrivals)}")
        agent.create_case(batch_no=f"OLD-{next(arrivals)}", received_at="2020-01-02T09:00:00+08:00")

    listed = walk(agent, "/api/v1/case/?page_size=5&q=PAGE-", between=register)
    assert [c["id"] for c in listed] == sorted(before, reverse=True)  # newest first, once each
    everything = walk(agent, "/api/v1/case/?page_size=7")
    ids = [c["id"] for c in everything]
    assert len(ids) == len(set(ids)) and set(before) <= set(ids)


def test_paging_by_deadline_lists_each_case_once_soonest_first(app, api):
    add_cases(app, 30)  # half overdue, half due in an hour
    agent = api("agent")
    agent.create_case()  # a deadline of its own
    with app.app_context():
        closed_id = db.session.scalar(sa.select(Case.id).order_by(Case.id).limit(1))
        db.session.execute(  # no running deadline: listed last
            sa.update(CaseDeadline).where(CaseDeadline.case_id == closed_id).values(state="met")
        )
        keep_next_deadlines()
        db.session.commit()
        db.session.remove()
    listed = walk(agent, "/api/v1/case/?page_size=4&sort=deadline")
    ids = [c["id"] for c in listed]
    assert len(ids) == len(set(ids)) == 31
    with app.app_context():
        due = dict(db.session.execute(sa.select(Case.id, Case.next_due_at)).all())
        db.session.remove()
    keys = [(due[i] is None, due[i] or dt.datetime.min.replace(tzinfo=dt.UTC), i) for i in ids]
    assert keys == sorted(keys) and ids[-1] == closed_id


def test_overdue_lists_exactly_the_cases_past_a_running_deadline(app, api):
    add_cases(app, 12)
    agent = api("agent")
    now = utcnow()
    with app.app_context():
        expected = set(db.session.scalars(sa.select(Case.id).where(Case.next_due_at < now)))
        db.session.remove()
    assert len(expected) == 6
    for query in ("overdue=true", "overdue=true&sort=deadline"):
        assert {c["id"] for c in walk(agent, f"/api/v1/case/?page_size=5&{query}")} == expected
    not_overdue = {c["id"] for c in walk(agent, "/api/v1/case/?overdue=false")}
    assert not_overdue and not (not_overdue & expected)


def test_the_count_stops_at_its_cap(app, api):
    add_cases(app, 12)
    app.config["KESU_LIST_COUNT_CAP"] = 10
    body = api("agent").get("/api/v1/case/?page_size=3").get_json()
    assert (body["count"], body["count_capped"]) == (10, True)
    body = api("agent").get("/api/v1/case/?page_size=3&overdue=true").get_json()
    assert (body["count"], body["count_capped"]) == (6, False)


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1000, 2])  # few matches: looked up; many: read in order
def test_search_by_the_start_of_number_batch_or_customer(app, api, cap):
    app.config["KESU_LIST_COUNT_CAP"] = cap
    agent = api("agent")
    one = agent.create_case(batch_no="SRCH-001", customer=dealer("星辰超市北京店"))
    two = agent.create_case(batch_no="srch-002", customer=dealer("星光百货"))
    three = agent.create_case(batch_no="X-SRCH-3", customer=dealer("北京星辰超市"))

    def found(term: str) -> set[int]:
        return {c["id"] for c in walk(agent, f"/api/v1/case/?page_size=1&q={term}")}

    assert found(one["number"]) == {one["id"]}
    assert found(one["number"].lower()) == {one["id"]}  # numbers are found in any case
    assert found(one["number"][:-1]) >= {one["id"]}
    assert found("SRCH") == {one["id"]}
    assert found("srch") == {two["id"], one["id"]}  # as typed, or in capitals
    assert found("星辰") == {one["id"]}  # the start of the name, not the middle
    assert found("星") == {one["id"], two["id"]}
    assert found("%") == found("_") == found("*") == set()  # no wildcards
    assert three["id"] in found("北京")


def test_search_stays_in_the_readers_lines(app, api):
    mine = api("agent").create_case(batch_no="LINE-SEARCH")
    theirs = api("agent2").create_case(batch_no="LINE-SEARCH", **ON_L2)
    assert {c["id"] for c in walk(api("agent"), "/api/v1/case/?q=LINE-SEARCH")} == {mine["id"]}
    assert {c["id"] for c in walk(api("agent2"), "/api/v1/case/?q=LINE-SEARCH")} == {theirs["id"]}


def test_a_reader_of_several_lines_gets_one_list_in_order(app, api):
    ids = [
        api(user).create_case(**({} if user == "agent" else ON_L2))["id"]
        for user in ("agent", "agent2", "agent", "agent2")
    ]
    listed = [c["id"] for c in walk(api("admin"), "/api/v1/case/?page_size=3")]
    assert listed == sorted(ids, reverse=True)


# -- the kept next deadline --------------------------------------------------------------------


def test_the_next_deadline_on_the_case_row_follows_the_workflow(app, api):
    agent = api("agent")
    case = agent.create_case()
    states = next_due_by_rows(app)
    assert states["kept"][case["id"]] == states["rows"][case["id"]] != (None, None)
    agent.post(f"/api/v1/case/{case['id']}/action/reject", json={"comment": "不受理"})
    states = next_due_by_rows(app)
    assert states["kept"] == states["rows"]


# -- the screen --------------------------------------------------------------------------------


def test_the_screen_pages_forward_and_back(app, api):
    add_cases(app, 45)
    client = signed_in(app, "agent")
    first = client.get("/cases/").get_data(as_text=True)
    assert 'id="kesu-next-page"' in first and 'id="kesu-previous-page"' not in first
    pages = [first]
    for _ in range(2):
        link = pages[-1].split('id="kesu-next-page" href="')[1].split('"')[0].replace("&amp;", "&")
        pages.append(client.get(link).get_data(as_text=True))
    numbers = [p.count("<tr data-case=") for p in pages]
    assert numbers == [20, 20, 5] and 'id="kesu-next-page"' not in pages[-1]
    rows = [p.split("<tr data-case=")[1:] for p in pages]
    seen = [r.split('"')[1] for page in rows for r in page]
    assert len(seen) == len(set(seen)) == 45
    back = pages[-1].split('id="kesu-previous-page" href="')[1].split('"')[0].replace("&amp;", "&")
    again = client.get(back).get_data(as_text=True).split("<tr data-case=")[1:]
    assert [r.split('"')[1] for r in again] == [r.split('"')[1] for r in rows[1]]
    resp = client.get("/cases/?after=not-a-position")
    assert resp.status_code == 400 and "after" in resp.get_data(as_text=True)


@pytest.mark.parametrize("cap", [1000, 2])  # few: read through the handler's index; many: walked
def test_a_persons_cases_are_found_either_way(app, cap):
    add_cases(app, 24)  # handled in turn by eight people, all registered by the agent
    app.config["KESU_LIST_COUNT_CAP"] = cap
    with app.app_context():
        qa = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "qa"))
        handled = {
            number
            for (number,) in db.session.execute(
                sa.select(Case.number).where(Case.handler_id == qa.id)
            )
        }
        qa_id = qa.id
        db.session.remove()
    assert len(handled) == 3

    def listed(client, query: str) -> set[str]:
        page = client.get(f"/cases/?{query}").get_data(as_text=True)
        return {row.split('"')[1] for row in page.split("<tr data-case=")[1:]}

    assert listed(signed_in(app, "supervisor"), f"handler={qa_id}") == handled
    assert listed(signed_in(app, "qa"), "mine=1") == handled
    assert len(listed(signed_in(app, "agent"), "mine=1")) == 20  # a full page: registered all


def test_the_list_screen_costs_the_same_statements_for_3_and_30_colleagues(app):
    """The handler filter offers the line's staff who may handle a case: their roles are read
    together, not one person at a time."""
    add_cases(app, 5)
    client = signed_in(app, "supervisor")
    few, _ = statements(app, client, "/cases/", "<tr data-case=")
    with app.app_context():
        for n in range(27):
            role = ("QA", "Sales", "Finance")[n % 3]
            create_user(SYSTEM, username=f"staff{n}", password=PASSWORD, roles=[role], lines=["L1"])
        db.session.remove()
    many, _ = statements(app, client, "/cases/", "<tr data-case=")
    page = client.get("/cases/").get_data(as_text=True)
    assert ">staff0<" in page and ">staff1<" in page  # QA and Sales may handle a case
    assert ">staff2<" not in page  # Finance may not
    assert few == many
