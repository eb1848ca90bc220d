"""The case lifecycle of DOMAIN.md section 2: stages and the actions between them.

Each action declares the roles allowed to run it, the stages it starts from, where it goes
and the input it needs. Status changes only through these actions (:mod:`core.services.workflow`).
This module is pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.roles import ADMIN, CS_AGENT, CS_SUPERVISOR, MANAGER, QA, RESPONSIBLE_DEPT, SALES

# The main path, in order. A category may leave out the optional stages.
MAIN_PATH = (
    "new",
    "accepted",
    "investigating",
    "proposed",
    "approving",
    "executing",
    "confirming",
    "verifying",
    "closed",
)
OPTIONAL_STAGES = frozenset({"approving", "executing", "confirming", "verifying"})
STAGES = (*MAIN_PATH, "rejected", "on_hold")
HOLDABLE = frozenset(MAIN_PATH[:-1])
FINAL = frozenset({"closed", "rejected"})

STAGE_LABELS = {
    "new": _l("New"),
    "accepted": _l("Accepted"),
    "investigating": _l("Investigating"),
    "proposed": _l("Proposed"),
    "approving": _l("Approving"),
    "executing": _l("Executing"),
    "confirming": _l("Customer confirming"),
    "verifying": _l("Verifying effect"),
    "closed": _l("Closed"),
    "rejected": _l("Not accepted"),
    "on_hold": _l("On hold"),
}


@dataclass(frozen=True)
class Action:
    """A workflow action.

    ``target`` is the stage it enters; when the case's category leaves that stage out, the
    case goes on to the next stage of the main path that it uses. ``inputs`` names the
    payload keys the screen asks for besides ``comment``.
    """

    name: str
    label: object
    sources: frozenset[str]
    target: str | None
    roles: tuple[str, ...]
    comment_required: bool = False
    inputs: tuple[str, ...] = ()
    style: str = "default"


_CS = (CS_AGENT, CS_SUPERVISOR)

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("accept", _l("Accept"), frozenset({"new"}), "accepted", _CS, style="primary"),
        Action("reject", _l("Reject"), frozenset({"new"}), "rejected", _CS, True, style="danger"),
        Action(
            "assign",
            _l("Assign"),
            frozenset({"accepted", "investigating"}),
            "investigating",
            (CS_SUPERVISOR,),
            inputs=("department", "handler"),
            style="primary",
        ),
        Action(
            "propose",
            _l("Propose solution"),
            frozenset({"investigating", "proposed"}),
            "proposed",
            (QA, RESPONSIBLE_DEPT, SALES, *_CS),
            inputs=("root_cause",),
            style="primary",
        ),
        Action(
            "submit",
            _l("Submit for approval"),
            frozenset({"proposed"}),
            "approving",
            (SALES, *_CS),
            style="primary",
        ),
        Action(
            "approve",
            _l("Approve"),
            frozenset({"approving"}),
            "executing",
            (CS_SUPERVISOR, MANAGER),
            style="success",
        ),
        Action(
            "refuse",
            _l("Refuse"),
            frozenset({"approving"}),
            "proposed",
            (CS_SUPERVISOR, MANAGER),
            True,
            style="danger",
        ),
        Action(
            "execute",
            _l("Mark executed"),
            frozenset({"executing"}),
            "confirming",
            (SALES, *_CS),
            style="primary",
        ),
        Action(
            "confirm",
            _l("Customer confirmed"),
            frozenset({"confirming"}),
            "verifying",
            (SALES, *_CS),
            style="primary",
        ),
        Action(
            "verify",
            _l("Verify effect"),
            frozenset({"verifying"}),
            None,
            (QA,),
            inputs=("effective",),
            style="primary",
        ),
        Action("close", _l("Close"), frozenset({"verifying"}), "closed", _CS, style="success"),
        Action(
            "reopen",
            _l("Reopen"),
            frozenset({"rejected", "closed"}),
            None,
            (CS_SUPERVISOR,),
            True,
            style="warning",
        ),
        Action(
            "hold",
            _l("Wait for customer"),
            HOLDABLE,
            "on_hold",
            (SALES, *_CS),
            True,
        ),
        Action("resume", _l("Resume"), frozenset({"on_hold"}), None, (SALES, *_CS)),
    )
}


def action_roles() -> dict[str, tuple[str, ...]]:
    """The roles allowed per action, for the role configuration (Admin may do all)."""
    return {name: tuple(r for r in a.roles if r != ADMIN) for name, a in ACTIONS.items()}


def used_stages(declared: Iterable[str] | None, has_compensation: bool) -> frozenset[str]:
    """The stages a case uses: the category's choice, minus approval and execution when
    the proposal holds no compensation."""
    stages = (
        set(MAIN_PATH) if declared is None else set(declared) | (set(MAIN_PATH) - OPTIONAL_STAGES)
    )
    if not has_compensation:
        stages -= {"approving", "executing"}
    return frozenset(stages)


def next_used(target: str, used: frozenset[str]) -> str:
    """``target`` if the case uses it, else the next main-path stage it uses."""
    if target not in MAIN_PATH:
        return target
    for stage in MAIN_PATH[MAIN_PATH.index(target) :]:
        if stage in used:
            return stage
    return "closed"


def reopen_target(status: str) -> str:
    """A rejected case is looked at again from the start; a closed one goes back to investigation."""
    return "new" if status == "rejected" else "investigating"
