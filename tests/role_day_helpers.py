"""The shared steps of the role-day walks (tests/test_role_days*.py): one browser page that signs
in as each role in turn, a screenshot per step, and watchers that fail the walk on a request
leaving 127.0.0.1, a console error, an uncaught script error or a 5xx response."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests.conftest import PASSWORD

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# The seeded staff's names (one field, surname first), as people see them on every screen.
NAMES = {
    "agent": "李客服",
    "supervisor": "王主管",
    "qa": "赵品保",
    "dept": "钱仓储",
    "sales": "孙业务",
    "director": "周总监",
    "finance": "吴财务",
    "auditor": "郑审计",
}


def name_the_staff(app) -> None:
    """Give the seeded users their names (test setup: the seed has logins only)."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import KesuUser

    with app.app_context():
        for username, name in NAMES.items():
            db.session.execute(
                sa.update(KesuUser)
                .where(KesuUser.username == username)
                .values(last_name=name, first_name="")
            )
        db.session.commit()
        db.session.remove()


LINE_ZONE = ZoneInfo("Asia/Shanghai")  # the seeded business line's time zone


def png(width: int = 160, height: int = 120) -> bytes:
    """A small real PNG (a brown box on a paint-can grey) as a phone photo stands in for."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            inside = width // 4 < x < 3 * width // 4 and height // 4 < y < 3 * height // 4
            row += bytes((150, 100, 60) if inside else (200, 200, 205))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def now_on_the_line() -> str:
    """The current minute on the line's clock, as a datetime-local field takes it."""
    return dt.datetime.now(LINE_ZONE).strftime("%Y-%m-%dT%H:%M")


def shots_dir(tmp_path: Path) -> Path:
    """KESU_SCREENSHOTS=<dir> keeps the screenshots under stable names; else pytest's tmp_path."""
    chosen = os.environ.get("KESU_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Latin words a Chinese screen may show: codes, units, login names, file names of the walk.
LATIN_OK = {"Kesu", "KS", "FX", "CNY", "KB", "SHA", "ERP", "XLSX", "CSV", "ECN", "SO", "CN", "SKU"}


def english_words(page) -> set[str]:
    """Words of three or more Latin letters in the page's text that are not codes, login names
    (lower case), file names or the few allowed abbreviations."""
    text = page.inner_text("body")
    text = re.sub(r"[\w.-]+\.(png|pdf|xlsx|csv)", " ", text)
    words = set(re.findall(r"[A-Za-z][A-Za-z]{2,}", text)) - LATIN_OK
    return {w for w in words if not re.fullmatch(r"[A-Z]\d+|[a-z_]+", w)}


def _outside(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return False
    return parts.hostname not in LOCAL_HOSTS


class Walk:
    """One role after another on one page, as people sharing a desk would."""

    def __init__(self, screen, tmp_path: Path, prefix: str):
        self.screen = screen
        self.page = screen.page
        self.base = screen.base
        self.folder = shots_dir(tmp_path)
        self.prefix = prefix
        self.step = 0
        self.outside: list[str] = []
        self.console_errors: list[str] = []
        self.server_errors: list[str] = []
        self.user: str | None = None
        self.english: list[str] = []
        self.page.on("request", self._on_request)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.on("response", self._on_response)

    def _on_request(self, request) -> None:
        if _outside(request.url):
            self.outside.append(request.url)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    # -- people ------------------------------------------------------------------------------

    def sign_in(self, username: str) -> None:
        """Sign out whoever was at the desk and sign ``username`` in on the login form; the
        landing page is their My work."""
        page = self.page
        if self.user is not None:
            page.goto(self.base + "/logout/")
        page.goto(self.base + "/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_load_state()
        self.user = username
        self.english.extend(f"{username}'s My work: {w}" for w in sorted(english_words(page)))

    def shot(self, name: str) -> Path:
        """A screenshot of what the person sees now (the viewport), numbered in walk order;
        the page's words are checked for English left untranslated."""
        self.english.extend(f"{name}: {w}" for w in sorted(english_words(self.page)))
        self.step += 1
        path = self.folder / f"{self.prefix}-{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    # -- what a person does ------------------------------------------------------------------

    def menu(self, label: str) -> None:
        """Click a navbar entry by its visible label (inside its dropdown when it has one)."""
        page = self.page
        entry = page.locator(f".navbar a:has-text('{label}')").first
        if not entry.is_visible():
            dropdown = entry.locator(
                "xpath=ancestor::li[contains(@class,'dropdown')][1]/a[contains(@class,'dropdown-toggle')]"
            )
            dropdown.click()
        entry.click()
        page.wait_for_load_state()

    def my_work(self) -> None:
        self.menu("我的工作")
        assert self.page.inner_text("#kesu-workspace h2").startswith("我的工作")

    def section_rows(self, key: str) -> list[str]:
        """The case numbers listed in a My work section."""
        return self.page.locator(f"#kesu-work-{key} tr.kesu-work-row").evaluate_all(
            "rows => rows.map(r => r.dataset.case)"
        )

    def section_count(self, key: str) -> int:
        return int(self.page.inner_text(f"#kesu-work-{key} .kesu-work-count"))

    def open_from_section(self, key: str, number: str) -> None:
        self.page.click(f"#kesu-work-{key} tr[data-case='{number}'] a")
        self.page.wait_for_load_state()
        assert self.page.inner_text("#kesu-case-number").startswith(number)

    def action(self, name: str, **fields: str) -> None:
        """Run a case-page action: a one-click button, or open its box, fill it and submit."""
        page = self.page
        box = page.locator(f"details[data-action-box='{name}']")
        if box.count() and box.get_attribute("open") is None:
            box.locator("summary").click()
        form = page.locator(f"form[data-action='{name}']")
        for key, value in fields.items():
            field = form.locator(f"[name='{key}']")
            tag = field.first.evaluate("e => e.tagName + ':' + (e.type || '')")
            if tag.startswith("SELECT"):
                field.select_option(value)
            elif tag.endswith(":checkbox"):
                field.check()
            elif tag.endswith(":radio"):
                form.locator(f"[name='{key}'][value='{value}']").check()
            else:
                field.fill(value)
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        self.flash_ok()

    def flash_ok(self) -> str:
        """The green message after a change; fails showing the red one when there is one."""
        page = self.page
        errors = page.locator(".alert-danger")
        assert errors.count() == 0, errors.all_inner_texts()
        self.english.extend(f"{page.url}: {w}" for w in sorted(english_words(page)))
        return page.inner_text(".alert-success")

    def status(self) -> str:
        return self.page.inner_text("#kesu-case-number .kesu-status").strip()

    def history(self) -> str:
        return self.page.inner_text("#timeline")

    def badge(self, selector: str) -> int:
        """A navbar count (0 when the badge is not shown)."""
        badge = self.page.locator(f"{selector} .badge")
        return int(badge.inner_text()) if badge.count() else 0

    def drop_files(self, files: list[tuple[str, str, bytes]]) -> None:
        """Drag files from the desktop onto the registration form's drop zone."""
        transfer = self.page.evaluate_handle(
            """(files) => {
                const transfer = new DataTransfer();
                for (const [name, type, data] of files) {
                    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                    transfer.items.add(new File([bytes], name, { type }));
                }
                return transfer;
            }""",
            [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files],
        )
        self.page.dispatch_event("#kesu-dropzone", "drop", {"dataTransfer": transfer})

    # -- the end of the walk -----------------------------------------------------------------

    def assert_clean(self) -> None:
        assert self.english == [], self.english
        assert self.outside == [], self.outside
        assert self.console_errors == [], self.console_errors
        assert self.server_errors == [], self.server_errors


def approve_from_the_inbox(
    w: Walk, approver: str, number: str, step: str, total: str, *shown: str
) -> None:
    """Told by the badges; the inbox shows the proposal (its step, total and ``shown``
    texts: root cause, line notes); approved in place."""
    page = w.page
    w.sign_in(approver)
    assert w.badge(".kesu-inbox-badge") == 1
    assert w.badge(".kesu-bell") >= 1
    assert w.section_rows("approvals") == [number]
    page.click(".kesu-bell")
    page.wait_for_load_state()
    assert f"客诉 {number} 等待您审批。" in page.inner_text(".kesu-notifications")
    page.click(".kesu-inbox-badge")
    page.wait_for_load_state()
    card = page.locator(f".kesu-inbox-case[data-case='{number}']")
    text = card.inner_text()
    assert step in text and all(part in text for part in shown), text
    assert card.locator(".kesu-inbox-total").inner_text() == total
    w.shot(f"{approver}-inbox")
    card.locator("button[value=approve]").click()
    page.wait_for_load_state()
    assert f"“批准”已完成。 客诉 {number}。" in w.flash_ok()
    assert w.badge(".kesu-inbox-badge") == 0
    assert w.badge(".kesu-bell") == 0  # the notice of it is read once decided
    assert "没有待您审批的客诉。" in page.inner_text(".kesu-inbox")


def mark_line_done(w: Walk, kind: str, reference: str) -> None:
    page = w.page
    row = page.locator("#kesu-execution tbody tr", has_text=kind)
    row.locator("input[name=reference]").fill(reference)
    row.locator("form.kesu-mark-done button").click()
    page.wait_for_load_state()
    assert "明细已标记为已执行" in w.flash_ok()
    row = page.locator("#kesu-execution tbody tr", has_text=kind)
    assert row.locator(".kesu-exec-status").inner_text() == "已执行"
    assert row.locator(".kesu-exec-reference").inner_text() == reference


def case_number(text: str) -> str:
    return re.search(r"KS-\d{6}-\d{5}", text).group(0)
