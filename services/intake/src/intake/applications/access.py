"""Who may apply for whom, who may see an application, and who acts at a window."""

from __future__ import annotations

import sqlalchemy as sa

from intake.applications.schemas import Applicant
from intake.hall.rules import invalid
from intake.models import Application
from servicekit.auth import forbidden
from servicekit.identity import Identity


def check_may_apply(identity: Identity, data: Applicant) -> str:
    """A citizen applies for themselves (or the enterprise they represent) online; a window for anyone.

    Returns the channel: window for window staff unless they say otherwise, online for citizens.
    """
    if data.applicant_kind == "enterprise" and not (
        data.legal_representative and data.legal_representative_id
    ):
        raise invalid(
            "legal_representative_required",
            "企业申请须填写法定代表人及其身份证号码 (an enterprise applies through its legal representative)",
            "legal_representative",
            "required_for_enterprise",
        )
    if identity.kind == "citizen":
        own = data.applicant_id if data.applicant_kind == "person" else data.legal_representative_id
        if own != identity.citizen_id:
            raise forbidden("只能为本人或本人任法定代表人的企业申请 (代办 goes through a window)")
        if data.agent is not None or data.channel == "window":
            raise forbidden("代办和窗口受理须在窗口办理 (agents and window intake are for window staff)")
        return "online"
    if identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None):
        return data.channel or ("window" if identity.kind == "staff" else "online")
    raise forbidden("只有申请人本人或综合受理窗口可以提交申请 (applicants themselves or a window)")


def check_window(identity: Identity) -> None:
    """Intake decisions and the output window: hall staff at a window, or an operator."""
    if identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None):
        return
    raise forbidden("只有窗口工作人员可以办理 (window staff only)")


def may_see(identity: Identity, application: Application) -> bool:
    if identity.kind == "citizen":
        return identity.citizen_id is not None and identity.citizen_id in (
            application.applicant_id,
            application.legal_representative_id,
            application.agent_id,
        )
    if identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None):
        return True
    return identity.department is not None and identity.department in (
        application.department_code,
        application.deciding_department,
    )


def visible(identity: Identity) -> sa.ColumnElement[bool]:
    """`may_see` as a filter for lists."""
    if identity.kind == "citizen":
        me = identity.citizen_id or "-"
        return sa.or_(
            Application.applicant_id == me,
            Application.legal_representative_id == me,
            Application.agent_id == me,
        )
    if identity.kind == "operator" or (identity.kind == "staff" and identity.window is not None):
        return sa.true()
    if identity.department is None:
        return sa.false()
    return sa.or_(
        Application.department_code == identity.department,
        Application.deciding_department == identity.department,
    )
