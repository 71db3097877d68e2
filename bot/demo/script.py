"""The scripted chat at the end of the demo: a manager, the rep whose leads tell the story, customer service and
the admin try the commands. These are inputs (what people type), so they stay here rather than in prompts/.
Commands that are not built yet simply get the help text, which is also what a real user would see.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.company import Company


@dataclass(frozen=True, slots=True)
class Story:
    """Who and what the transcript is about, for the report at the end of the run."""

    manager: str
    rep: str
    cs: str
    admin: str
    quiet: str  # lead ids
    active: str
    fault: str
    missed_call: str


def story(company: Company) -> Story:
    h = company.highlights
    rep = company.lead(h["active"]).owner_id if "active" in h else company.with_role("rep")[0].id
    mgr = company.manager_of(rep)
    admins = [p for p in company.people if p.admin]
    return Story(manager=mgr.id if mgr else company.teams[0].manager_id, rep=rep,
                 cs=company.with_role("cs")[0].id, admin=admins[0].id if admins else "",
                 quiet=h.get("quiet", ""), active=h.get("active", ""), fault=h.get("fault", ""),
                 missed_call=h.get("missed_call", ""))


def script(company: Company) -> list[tuple[str, str]]:
    s = story(company)

    def short(lead_id: str) -> str:
        return company.customer(company.lead(lead_id).customer_id).short if lead_id else ""

    quiet, active, fault = short(s.quiet), short(s.active), short(s.fault)
    lines = [
        (s.manager, "/帮助"),
        (s.manager, "/silent"),
        (s.manager, f"/heatmap {quiet}"),
        (s.manager, f"/timeline {fault}"),
        (s.manager, "/baseline"),
        (s.manager, "/forecast 本季"),
        (s.manager, "/health"),
        (s.manager, "/漏斗"),
        (s.manager, "/revisions"),
        (s.rep, "/我是谁"),
        (s.rep, "/今日"),
        (s.rep, "/silent"),
        (s.rep, f"/heatmap {fault}"),
        (s.rep, f"/timeline {active}"),
        (s.rep, f"/deal {active}"),
        (s.rep, f"/links {active}"),
        (s.rep, "/forecast 本月"),
        (s.rep, f"/note {active} 客户CFO下周回国"),
        (s.rep, "/话术 交付"),
        (s.rep, "/异议"),
        (s.manager, "/异议"),
        (s.manager, "/话术 再比较一下"),
        (s.rep, "/教练"),
        (s.cs, "/missed"),
        (s.admin, "/unmatched"),
    ]
    return [(who, line) for who, line in lines if who]
