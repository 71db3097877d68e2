"""The demo company's people, customers and leads, generated from a seed.

Everything comes from one `random.Random(seed)` and a fixed "now" (never the wall clock), so the same seed gives
the same company byte for byte. Sizes follow the foundation issue: 3 teams with a manager and ≥4 reps each,
2 customer-service people, 技术部 colleagues, an admin, ≥300 customers over 制造业 / 零售连锁 / SaaS, ≥400 leads.
Leads of one customer never overlap in time, so "the customer's open lead" is always unambiguous during replay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import to_ms
from bot.demo import names
from bot.demo.catalogue import INDUSTRIES, Product, for_industry

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_NOW = to_ms(datetime(2026, 5, 20, 18, 0, tzinfo=SHANGHAI))  # the demo's fixed "now"
HOUR = 3_600_000
DAY = 24 * HOUR

STAGES_OPEN = ("初步接触", "需求确认", "方案报价", "商务谈判")
STAGE_WON, STAGE_LOST = "赢单", "输单"
_STAGE_AT = (0.0, 0.2, 0.45, 0.7)  # fraction of the planned cycle at which each open stage starts


@dataclass(frozen=True, slots=True)
class DemoTeam:
    name: str
    manager_id: str
    region: str  # names.CITIES key: where its customers are
    industry: str  # its main customer industry


@dataclass(frozen=True, slots=True)
class DemoPerson:
    id: str  # also the WeCom user id
    name: str
    role: str  # rep | manager | cs | colleague
    team: str = ""
    department: str = ""
    admin: bool = False
    phone: str = ""
    title: str = ""  # job title shown in the transcript
    diligence: float = 1.0  # reps: how closely they follow up (0.6 slow … 1.4 top seller); shapes gaps and silences

    @property
    def wecom_id(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    id: str
    name: str
    short: str
    industry: str
    size: str  # 大型 | 中型 | 小型
    city: str
    owner_id: str
    external_id: str  # WeCom external contact id of the main contact (wm…/wo…)
    contact_name: str
    contact_title: str
    address: str  # how the rep addresses the contact: "王总"
    phone: str
    created_at: int
    room_id: str = ""  # a WeCom group chat with the customer, when there is one


@dataclass(slots=True)
class DemoLead:
    id: str
    customer_id: str
    owner_id: str
    title: str
    product: Product
    amount: float
    created_at: int
    planned_close_at: int
    status: str  # final status at the demo's now: open | won | lost
    closed_at: int | None
    scenario: str = "normal"  # normal | quiet_mid | quiet_end | quiet | active | fault | missed_call

    def stage_at(self, at_ms: int) -> str:
        if self.closed_at is not None and at_ms >= self.closed_at:
            return STAGE_WON if self.status == "won" else STAGE_LOST
        span = max(self.planned_close_at - self.created_at, 1)
        frac = (at_ms - self.created_at) / span
        stage = STAGES_OPEN[0]
        for name, start in zip(STAGES_OPEN, _STAGE_AT, strict=True):
            if frac >= start:
                stage = name
        return stage

    def stage_changes(self) -> list[tuple[int, str]]:
        """(time, stage) for every open-stage boundary before the close (or the planned close)."""
        span = self.planned_close_at - self.created_at
        out = [(self.created_at + int(span * start), name) for name, start in zip(STAGES_OPEN, _STAGE_AT, strict=True)]
        end = self.closed_at if self.closed_at is not None else None
        return [(t, s) for t, s in out if end is None or t < end]


@dataclass(frozen=True, slots=True)
class Sizes:
    customers: int = 320
    leads: int = 440
    reps_per_team: tuple[int, ...] = (5, 5, 4)


@dataclass
class Company:
    seed: int
    now: int
    days: int
    teams: list[DemoTeam]
    people: list[DemoPerson]
    customers: list[DemoCustomer]
    leads: list[DemoLead]
    highlights: dict[str, str] = field(default_factory=dict)  # role in the story → lead id

    @property
    def start(self) -> int:
        return self.now - self.days * DAY

    def person(self, pid: str) -> DemoPerson:
        return self._people_by_id()[pid]

    def customer(self, cid: str) -> DemoCustomer:
        return self._customers_by_id()[cid]

    def lead(self, lid: str) -> DemoLead:
        for lead in self.leads:
            if lead.id == lid:
                return lead
        raise KeyError(lid)

    def _people_by_id(self) -> dict[str, DemoPerson]:
        cache = self.__dict__.get("_pcache")
        if cache is None:
            cache = self.__dict__["_pcache"] = {p.id: p for p in self.people}
        return cache

    def _customers_by_id(self) -> dict[str, DemoCustomer]:
        cache = self.__dict__.get("_ccache")
        if cache is None:
            cache = self.__dict__["_ccache"] = {c.id: c for c in self.customers}
        return cache

    def with_role(self, role: str) -> list[DemoPerson]:
        return [p for p in self.people if p.role == role]

    def reps_of(self, team: str) -> list[DemoPerson]:
        return [p for p in self.people if p.role == "rep" and p.team == team]

    def manager_of(self, person_id: str) -> DemoPerson | None:
        team = self.person(person_id).team
        for t in self.teams:
            if t.name == team:
                return self.person(t.manager_id)
        return None


TEAM_PLAN = (("华东大客户组", "华东", "制造业"), ("华南渠道组", "华南", "零售连锁"), ("SaaS直销组", "全国", "SaaS"))
_INDUSTRY_SHARE = {"制造业": 0.4, "零售连锁": 0.35, "SaaS": 0.25}
_CYCLE_DAYS = {"制造业": (35, 110), "零售连锁": (25, 80), "SaaS": (14, 60)}


def build_org(rng: random.Random, sizes: Sizes) -> tuple[list[DemoTeam], list[DemoPerson]]:
    taken_names: set[str] = set()
    taken_ids: set[str] = set()
    phones: set[str] = set()
    teams: list[DemoTeam] = []
    people: list[DemoPerson] = []

    def person(role: str, team: str = "", department: str = "", admin: bool = False, title: str = "",
               diligence: float = 1.0) -> DemoPerson:
        name, pinyin = names.person_name(rng, taken_names)
        p = DemoPerson(id=names.unique_user_id(pinyin, taken_ids), name=name, role=role, team=team,
                       department=department or ("销售部" if role in ("rep", "manager") else ""), admin=admin,
                       phone=names.mobile(rng, phones), title=title, diligence=diligence)
        people.append(p)
        return p

    for (team_name, region, industry), n_reps in zip(TEAM_PLAN, sizes.reps_per_team, strict=True):
        mgr = person("manager", team_name, title="销售总监" if region == "华东" else "销售经理")
        teams.append(DemoTeam(team_name, mgr.id, region, industry))
        for i in range(n_reps):
            # the first team's first rep is the top seller whose leads the demo's story follows
            diligence = 1.35 if not teams[1:] and i == 0 else round(rng.uniform(0.6, 1.4), 2)
            person("rep", team_name, title="客户经理", diligence=diligence)
    for _ in range(2):
        person("cs", department="客服中心", title="客服专员")
    person("colleague", department="技术部", title="售前工程师")
    person("colleague", department="技术部", title="实施工程师")
    person("manager", department="销售运营", admin=True, title="销售运营主管（管理员）")
    return teams, people


def build_customers(rng: random.Random, sizes: Sizes, teams: list[DemoTeam], people: list[DemoPerson],
                    start: int) -> list[DemoCustomer]:
    reps_by_team = {t.name: [p for p in people if p.role == "rep" and p.team == t.name] for t in teams}
    team_by_industry = {t.industry: t for t in teams}
    taken_names: set[str] = set()
    taken_person_names: set[str] = {p.name for p in people}
    phones: set[str] = {p.phone for p in people}
    ext_ids: set[str] = set()
    out: list[DemoCustomer] = []
    counts = {ind: round(sizes.customers * share) for ind, share in _INDUSTRY_SHARE.items()}
    counts["SaaS"] = sizes.customers - counts["制造业"] - counts["零售连锁"]
    n = 0
    for industry in INDUSTRIES:
        home = team_by_industry[industry]
        for _ in range(counts[industry]):
            n += 1
            # one customer in ten is looked after by another team (a referral, a former colleague's account)
            team = home if rng.random() < 0.9 else rng.choice(teams)
            full, short, city = names.company_name(rng, industry, home.region, taken_names)
            contact, _py = names.person_name(rng, taken_person_names)
            title_short, title = rng.choice(names.CONTACT_TITLES[industry])
            size = rng.choices(("大型", "中型", "小型"), weights=(2, 5, 4))[0]
            room = ""
            if industry == "制造业" and size != "小型" and rng.random() < 0.35:
                room = "wr" + names.token(rng, 26)
            out.append(DemoCustomer(
                id=f"C{n:04d}", name=full, short=short, industry=industry, size=size, city=city,
                owner_id=rng.choice(reps_by_team[team.name]).id, external_id=names.external_id(rng, ext_ids),
                contact_name=contact, contact_title=title, address=contact[0] + title_short,
                phone=names.mobile(rng, phones), created_at=start - rng.randrange(30, 400) * DAY, room_id=room))
    return out


def _new_lead(rng: random.Random, n: int, customer: DemoCustomer, created: int, now: int) -> DemoLead:
    product = rng.choice(for_industry(customer.industry))
    scale = {"大型": 1.0, "中型": 0.6, "小型": 0.35}[customer.size]
    lo, hi = product.min_amount, product.max_amount
    amount = round(max(lo, min(hi, rng.uniform(lo, hi) * (0.6 + scale * 0.6))) / 1000) * 1000
    lo_d, hi_d = _CYCLE_DAYS[customer.industry]
    planned = created + rng.randint(lo_d, hi_d) * DAY + rng.randrange(DAY)
    actual = planned + rng.randint(-6, 21) * DAY
    actual = max(actual, created + 7 * DAY)
    if actual <= now - HOUR:
        status = "won" if rng.random() < 0.38 else "lost"
        closed: int | None = actual
    else:
        status, closed = "open", None
    return DemoLead(id=f"L{n:04d}", customer_id=customer.id, owner_id=customer.owner_id,
                    title=f"{customer.short}-{product.name}项目", product=product, amount=float(amount),
                    created_at=created, planned_close_at=planned, status=status, closed_at=closed)


def build_leads(rng: random.Random, sizes: Sizes, customers: list[DemoCustomer], now: int, days: int) -> list[DemoLead]:
    """One lead per customer first, then follow-up leads after a customer's last lead closed, until the target."""
    horizon = (days + 170) * DAY  # most leads of the last year are closed before the window opens
    leads: list[DemoLead] = []
    last_of: dict[str, DemoLead] = {}
    for c in customers:
        created = now - rng.randrange(2 * DAY, horizon)
        lead = _new_lead(rng, len(leads) + 1, c, created, now)
        leads.append(lead)
        last_of[c.id] = lead
    while len(leads) < sizes.leads:
        candidates = [c for c in customers
                      if last_of[c.id].closed_at is not None and last_of[c.id].closed_at < now - 6 * DAY]
        if not candidates:
            break
        for c in candidates:
            if len(leads) >= sizes.leads:
                break
            prev = last_of[c.id]
            assert prev.closed_at is not None
            created = prev.closed_at + rng.randint(2, 30) * DAY + rng.randrange(DAY)
            if created >= now - 2 * DAY:
                created = prev.closed_at + DAY + rng.randrange(max(now - 2 * DAY - prev.closed_at - DAY, 1))
            lead = _new_lead(rng, len(leads) + 1, c, created, now)
            leads.append(lead)
            last_of[c.id] = lead
    return leads


def assign_scenarios(rng: random.Random, company: Company) -> None:
    """Mark the story's leads: quiet ones (mid-life and at the end), the fault case, a missed call, an active one.

    The named highlights all belong to the first rep of the first team so that one manager's and one rep's
    scripted commands at the end of the demo show them side by side.
    """
    start, now = company.start, company.now
    in_window = [ld for ld in company.leads if (ld.closed_at or now) > start + 3 * DAY]
    open_old = [ld for ld in in_window if ld.status == "open" and ld.created_at < now - 20 * DAY]
    star = company.reps_of(company.teams[0].name)[0]
    team0 = {p.id for p in company.reps_of(company.teams[0].name)}
    # the star rep's leads first, then the rest of the first team, then anyone (small demos)
    ordered = sorted(open_old, key=lambda ld: (ld.owner_id != star.id, ld.owner_id not in team0, ld.id))
    for role, lead in zip(("active", "quiet", "fault", "missed_call"), ordered, strict=False):
        lead.scenario = role
        company.highlights[role] = lead.id
    for lead in in_window:
        if lead.scenario != "normal":
            continue
        r = rng.random()
        slack = 1.4 - company.person(lead.owner_id).diligence  # 0 for the most diligent, 0.8 for the slowest
        if lead.status == "open" and lead.created_at < now - 14 * DAY and r < 0.04 + 0.15 * slack:
            lead.scenario = "quiet_end"
        elif r < 0.1 + 0.25 * slack:
            lead.scenario = "quiet_mid"


def generate_company(seed: int = 7, *, days: int = 90, now: int = DEFAULT_NOW, sizes: Sizes | None = None) -> Company:
    """The people, customers and leads (activity comes from bot.demo.activity)."""
    sizes = sizes or Sizes()
    rng = random.Random(f"salespulse-demo:{seed}:org")
    teams, people = build_org(rng, sizes)
    start = now - days * DAY
    customers = build_customers(rng, sizes, teams, people, start)
    leads = build_leads(rng, sizes, customers, now, days)
    company = Company(seed=seed, now=now, days=days, teams=teams, people=people, customers=customers, leads=leads)
    assign_scenarios(rng, company)
    return company
