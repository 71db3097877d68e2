"""bot.toml loaded once into frozen, typed sections.

Why so strict: a typo in a key silently falling back to a default is how a bot stops alerting without anyone
noticing. An unknown key or a wrong type stops the start with one line naming the file, the key and the expected
type. Secrets may come from environment variables (named in the field's metadata) and are never printed:
`describe()` shows them as "set" / "unset".
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ConfigError


def secret_field(env: str, default: str = "") -> Any:
    """A secret string field, overridable from the environment variable `env`."""
    return field(default=default, metadata={"secret": True, "env": env})


@dataclass(frozen=True)
class BotSection:
    name: str = "SalesPulse"
    locale: str = "zh-CN"  # zh-CN | en
    timezone: str = "Asia/Shanghai"
    database: str = "salespulse.db"
    data_dir: str = "salespulse-data"
    inbox_retention_days: int = 30
    dispatch_batch: int = 2000
    serve_batch: int = 10


@dataclass(frozen=True)
class ServerSection:
    host: str = "127.0.0.1"
    port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = 1_048_576


@dataclass(frozen=True)
class OutboxSection:
    max_attempts: int = 8
    base_delay_s: float = 2.0
    max_delay_s: float = 900.0
    poll_interval_s: float = 1.0


@dataclass(frozen=True)
class JobSection:
    name: str = ""
    cron: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class SchedulerSection:
    timezone: str = "Asia/Shanghai"
    poll_interval_s: float = 20.0
    max_catch_up: int = 50
    jobs: tuple[JobSection, ...] = (
        JobSection(name="silence_sweep", cron="* * * * *"),
        JobSection(name="missed_call_sweep", cron="* * * * *"),
        JobSection(name="daily_digest", cron="0 18 * * *"),
        JobSection(name="weekly_digest", cron="0 9 * * 1-5"),
        JobSection(name="coach_sweep", cron="*/30 * * * *"),
        JobSection(name="debrief_sweep", cron="*/5 * * * *"),
    )


@dataclass(frozen=True)
class TeamSection:
    name: str = ""
    manager: str = ""  # person id of the team's manager
    digest_chat: str = ""  # "<platform>:<chat id>" of the team's group chat for the digests; "" = manager only


@dataclass(frozen=True)
class PersonSection:
    id: str = ""
    name: str = ""
    role: str = "rep"  # rep | manager | cs | colleague
    team: str = ""
    admin: bool = False
    department: str = ""  # e.g. 技术部: colleagues from it count as 跨部门协作
    phone: str = ""
    wecom_id: str = ""
    dingtalk_id: str = ""
    feishu_id: str = ""


@dataclass(frozen=True)
class OrgSection:
    directory_csv: str = ""
    teams: tuple[TeamSection, ...] = ()
    people: tuple[PersonSection, ...] = ()


@dataclass(frozen=True)
class WeComSection:
    enabled: bool = False
    corp_id: str = ""
    agent_id: int = 0
    secret: str = secret_field("SALESPULSE_WECOM_SECRET")
    token: str = secret_field("SALESPULSE_WECOM_TOKEN")
    encoding_aes_key: str = secret_field("SALESPULSE_WECOM_AES_KEY")
    callback_path: str = "/wecom/callback"
    api_base_url: str = "https://qyapi.weixin.qq.com"
    robot_webhook_key: str = secret_field("SALESPULSE_WECOM_ROBOT_KEY")
    archive_sdk_path: str = ""
    archive_secret: str = secret_field("SALESPULSE_WECOM_ARCHIVE_SECRET")
    archive_private_keys: tuple[str, ...] = ()  # "VERSION=path/to/key.pem", one per publickey_ver
    archive_poll_s: float = 10.0
    org_sync_cron: str = "30 2 * * *"


@dataclass(frozen=True)
class DingTalkSection:
    enabled: bool = False
    mode: str = "stream"  # stream | http
    client_id: str = ""
    client_secret: str = secret_field("SALESPULSE_DINGTALK_SECRET")
    robot_code: str = ""
    callback_path: str = "/dingtalk/callback"
    http_sign_window_s: int = 300  # DingTalk allows 1 h; a narrower window shortens what a captured header pair buys
    api_base_url: str = "https://api.dingtalk.com"
    oapi_base_url: str = "https://oapi.dingtalk.com"
    group_robot_token: str = secret_field("SALESPULSE_DINGTALK_ROBOT_TOKEN")
    group_robot_secret: str = secret_field("SALESPULSE_DINGTALK_ROBOT_SECRET")
    org_sync_cron: str = "40 2 * * *"
    card_template_id: str = ""  # 高级版 card template (docs/platforms/dingtalk.md §6): cards with stream callbacks


@dataclass(frozen=True)
class FeishuSection:
    enabled: bool = False
    mode: str = "http"  # http | ws (long connection)
    app_id: str = ""
    app_secret: str = secret_field("SALESPULSE_FEISHU_SECRET")
    encrypt_key: str = secret_field("SALESPULSE_FEISHU_ENCRYPT_KEY")
    verification_token: str = secret_field("SALESPULSE_FEISHU_VERIFICATION_TOKEN")
    callback_path: str = "/feishu/events"
    domain: str = "https://open.feishu.cn"
    org_sync_cron: str = "50 2 * * *"


@dataclass(frozen=True)
class ConsoleSection:
    enabled: bool = True


@dataclass(frozen=True)
class SilenceSection:
    """Silence alerts: a lead with no recognisable action for `hours` alerts its rep and the rep's manager."""

    hours: int = 72
    working_hours_only: bool = False  # count only work_start..work_end on Chinese working days (holidays skipped)
    work_start: str = "09:00"
    work_end: str = "18:00"
    quotes: int = 3  # how many of the customer's last messages the alert quotes
    quote_max_chars: int = 60  # longer quotes are shortened with "…"
    sweep_batch: int = 500  # most alerts sent per sweep; the rest go out on the next tick
    backlog_days: int = 7  # a deadline passed longer ago when first seen (old imports, downtime): listed, not pushed
    quiet_hours: str = "22:00-08:00"  # local time when alerts wait (sent at its end); "" = alert at any hour


@dataclass(frozen=True)
class HeatmapSection:
    """Lead heatmaps (/heatmap) and timelines (/timeline)."""

    cold_days: int = 3  # a run of at least this many days without any touch is outlined as a cold zone
    max_days: int = 60  # the heatmap shows at most the last N days of a lead
    levels: tuple[float, ...] = (1.0, 2.0, 4.0, 7.0)  # weighted touches per day for shades ░ ▒ ▓ █
    timeline_limit: int = 30  # /timeline lists the last N tagged events


@dataclass(frozen=True)
class DigestSection:
    """The scheduled digests (jobs daily_digest / weekly_digest)."""

    daily_on_days_off: bool = False  # false: no daily digest on weekends and Chinese public holidays (make-up days count)


@dataclass(frozen=True)
class AlertsSection:
    """Alert volume (bot/pushes.py): one card per person per sweep, a per-person hourly budget, the rest in the digest."""

    max_pushes_per_hour: int = 6  # alert cards per person per rolling hour; more wait for the next digest; 0 = no cap
    group_per_sweep: bool = True  # several alerts for one person from one sweep/event → one card
    # alerts whose key starts with one of these are never held (they still count): missed calls (30-minute rule),
    # digests and the morning /今日 card, backup failures, approval cards, debrief asks, practice results, store fix
    # cards
    never_capped: tuple[str, ...] = ("digest", "today", "missed-call", "backup-failed", "approval", "debrief",
                                     "practice", "stores:fix", "stores:digest")


@dataclass(frozen=True)
class BaselineSection:
    """/baseline: follow-up time and daily effective actions against the industry mean and healthy threshold."""

    window_days: int = 30
    follow_up_industry_days: float = 11.3
    follow_up_healthy_days: float = 7.2  # healthy when ≤
    actions_industry: float = 4.7
    actions_healthy: float = 8.1  # healthy when ≥


@dataclass(frozen=True)
class CoachingSection:
    """Coaching (handlers/coaching): golden snippets, outcome weights, live similar-scene pushes, the B7 check."""

    enabled: bool = True  # false: no pushes or nudges (snippets are still collected)
    live_minutes: int = 30  # only a customer message at most this old when it arrives is pushed on (not imports)
    push_limit: int = 3  # snippets per push
    push_every_hours: float = 4.0  # at most one push per lead and objection type in this many hours
    quiet_hours: str = "22:00-08:00"  # local time without pushes or nudges; "" = any hour
    outcome_days: int = 14  # a snippet's outcome: what the lead did within N days (advanced / won / lost / stalled)
    stages: tuple[str, ...] = ("初步接触", "需求确认", "方案报价", "商务谈判")  # open stages in order; [] = any change advances
    prior_strength: float = 4.0  # a cell is shrunk toward its objection's rate with this many pseudo-trials
    shrink_strength: float = 10.0  # a snippet (its rep's record in the cell) toward its cell with this many
    interval: float = 0.9  # central credible interval shown (0.9 = 5 %–95 %)
    context_turns: int = 2  # turns of context kept either side of an exchange
    answer_window_hours: float = 2.0  # a rep answer later than this is not an answer to the objection
    sentiment: str = "lexicon"  # turning detection's sentiment: lexicon (fast) | snownlp (its import takes ~15 s)
    silence_gap_s: float = 5.0  # a customer silence longer than this (timed transcripts) records what the rep did
    hesitation_wait_hours: float = 24.0  # B7: without two rep messages within this, the check counts as missed
    rank_industry: float = 0.15  # ranking bonus: same industry
    rank_size: float = 0.08  # same customer size
    rank_product: float = 0.10  # same product line
    rank_recency: float = 0.10  # recency bonus at age 0, halving every rank_half_life_days
    rank_half_life_days: float = 90.0
    rank_star: float = 0.20  # a snippet starred by a manager (/金句)
    rank_candidates: int = 60  # rows read per index range before re-ranking
    sweep_batch: int = 5000  # messages / snippets handled per sweep


@dataclass(frozen=True)
class AsrSection:
    """Voice notes: decoding, voice activity, limits, retention, and optional speech recognition (funasr, CPU).

    Recognition is off by default (the base install does not pull torch); decoding and voice activity always run."""

    enabled: bool = False  # funasr on (needs the [asr] extra, torch and a local model folder)
    order: tuple[str, ...] = ("platform", "funasr")  # who is asked for the words, first answer wins
    model_dir: str = ""  # local Paraformer model folder for Mandarin ("zh") (no download at run time)
    models: dict[str, str] = field(default_factory=dict)  # more models by language: yue = "…/SenseVoiceSmall", auto = …
    vad_model_dir: str = ""  # optional local fsmn-vad model folder (splits long recordings on silence)
    punc_model_dir: str = ""  # optional local ct-punc model folder (punctuation for Paraformer)
    device: str = "cpu"
    language: str = "zh"  # the language notes are in unless [asr.languages] says otherwise
    languages: dict[str, str] = field(default_factory=dict)  # person id or team name → language, e.g. "华南组" = "yue"
    hotwords: bool = True  # pass product and customer names to models that take hotwords (SeACo Paraformer)
    max_hotwords: int = 200
    max_note_s: int = 15  # a debrief answer note (one per question)
    max_single_note_s: int = 45  # one note answering all three debrief questions; longer notes to the bot: too_long
    # (these two were also [debrief] short_note_s / long_note_s: one setting each now, see MOVED_KEYS)
    max_archive_note_s: int = 60  # archive voice notes (WeCom's own limit is 60 s)
    min_speech_ms: int = 300  # less voiced time than this: the note is silent
    archive_notes: bool = True  # also transcribe voice notes from the chat archive (customers' and reps')
    workers: int = 1  # threads decoding and recognising (each FunASR model is loaded once, shared)
    queue_size: int = 4  # notes in flight at once; the rest wait in the database
    max_audio_bytes: int = 10_485_760
    audio_retention_days: int = 365  # decoded audio kept this long (0 = for ever); [debrief] keep_days may be shorter
    transcript_retention_days: int = 365  # transcripts kept this long (0 = for ever)
    retry_days: int = 14  # notes kept for lack of a recogniser are re-recognised this far back once one is set up


@dataclass(frozen=True)
class DebriefSection:
    """Voice debriefs after customer meetings (handlers/debrief): three questions, answered by voice or text."""

    enabled: bool = True  # false: no cards after meetings (/debrief still works)
    ask_after_minutes: int = 5  # the card goes out this long after the meeting ends
    remind_after_minutes: int = 120  # one reminder when the card is still unanswered after this long
    expire_days: int = 3  # an unanswered debrief closes after this many days
    offline_days: int = 3  # a voice note recorded this many days before it arrived still finds its meeting
    trigger_tags: tuple[str, ...] = ("客户会议",)  # a calendar event or call with one of these tags is a customer meeting
    min_call_minutes: int = 10  # an answered customer call at least this long also counts (0 = calls never do)
    same_meeting_minutes: int = 120  # a second trigger for the same rep and lead this close is the same meeting
    within_hours: int = 24  # /debrief_rate counts debriefs done within this many hours of the meeting
    rate_days: int = 30  # /debrief_rate looks back this many days unless told otherwise
    list_limit: int = 10  # /debrief list shows this many
    keep_days: int = 365  # transcripts and audio of the answers are kept this long (0 = for ever)
    timeline_tag: str = "会后复盘"  # the tag of the debrief on the lead's timeline


@dataclass(frozen=True)
class PracticeSection:
    """The objection practice sandbox (/practice): a virtual customer built from the team's real objections."""

    rounds: int = 3  # objections per session
    idle_minutes: int = 15  # a session without an answer for this long ends itself
    min_library: int = 5  # the team's library needs this many real objections before they are used (else the pack's)
    quick_answer_s: int = 30  # a text answer within this is "quick"; slower ones get advice on response time
    good_rate_cpm: tuple[int, ...] = (180, 260)  # speaking rate (characters per minute) in this range is good
    max_fillers: int = 2  # more filler words (嗯、那个、就是) than this in one answer gets advice


@dataclass(frozen=True)
class CallsSection:
    """Missed-call escalation: an unanswered customer call not returned in time alerts rep, manager and 客服."""

    return_window_minutes: int = 30  # a callback (any outbound attempt) or rep message within this clears it
    max_age_hours: int = 24  # older missed calls (late CSV imports) are recorded but never escalated
    alert_customer_service: bool = True  # also alert every person with role = "cs"
    extensions: dict[str, str] = field(default_factory=dict)  # PBX extension → person id, e.g. {"8001" = "r1"}


@dataclass(frozen=True)
class TelephonySection:
    """The call-record webhook (adapters/telephony.py)."""

    enabled: bool = False
    path: str = "/telephony/calls"
    token: str = secret_field("SALESPULSE_TELEPHONY_TOKEN")
    timezone: str = "Asia/Shanghai"  # for timestamps without an offset (webhook and CSV import)
    max_calls_per_request: int = 1000


@dataclass(frozen=True)
class LinksSection:
    """Tracked document links (/link): short URLs served by adapters/links.py."""

    enabled: bool = True
    path_prefix: str = "/d"
    files_dir: str = ""  # local files offered through /link; empty = <bot.data_dir>/files
    hash_salt: str = secret_field("SALESPULSE_LINKS_SALT")  # empty = random salt kept in the database
    trust_forwarded_for: bool = False  # behind one reverse proxy: hash the last X-Forwarded-For address (the proxy's)
    ignore_user_agents: tuple[str, ...] = ("bot", "spider", "crawler", "preview", "headless")


# The demo company's product codes (bot/demo/catalogue.py); replace with your own catalogue.
_DEMO_PRODUCTS = ("GW-300", "QC-8", "EMS-2", "MES-Pro", "PM-5", "POS-5", "FC-2", "ESL-1", "CRM-M", "XD-3",
                  "SC-STD", "SC-PRO", "SC-ENT", "KF-1", "BI-2")


@dataclass(frozen=True)
class RulesSection:
    use_default_pack: bool = True  # load rules/packs/default.toml first
    packs_dirs: tuple[str, ...] = ("rules.d",)  # every *.toml in these folders (sorted), after the default pack
    extra_files: tuple[str, ...] = ()  # more pack files, loaded last
    products: tuple[str, ...] = _DEMO_PRODUCTS  # catalogue "products": "CODE" or "CODE|alias|alias"
    reload_check_s: float = 5.0  # how often pack files are checked for changes (hot reload)
    text_max_chars: int = 4000  # keywords look at this many characters of a text
    regex_max_chars: int = 2000  # regexes look at this many characters (bounds the worst case)
    external_check_s: float = 1.0  # how often to notice customers/leads changed by another process (cache)


@dataclass(frozen=True)
class ForecastHealthSection:
    """/health thresholds: each of six indicators is green, yellow or red; the worst one colours the deal."""

    approver_unmet_red_days: int = 30  # final approver not met and the expected close is this close (or past): red
    disputed_yellow: int = 1  # disputed contract clauses at/above this: yellow
    disputed_red: int = 3  # … at/above this: red
    legal_pending_red_days: int = 14  # legal review not passed this many days before the expected close: red
    tech_yellow_below: float = 0.6  # technical validation progress below this: yellow
    tech_red_below: float = 0.3  # … below this: red
    silent_yellow_days: int = 7  # no customer response (events) for this many days: yellow
    silent_red_days: int = 14  # … this many days: red
    slips_yellow: int = 1  # expected-close slips at/above this: yellow
    slips_red: int = 2  # … at/above this: red
    # disputed clauses and technical validation judged against the company's won deals (handlers/forecast/health.py)
    calibrate_from_history: bool = True
    history_min_deals: int = 30  # won deals with the value needed before history replaces the fixed values above
    yellow_share: float = 0.25  # yellow: fewer than this share of won deals looked this bad
    red_share: float = 0.05  # red: fewer than this share of won deals looked this bad


@dataclass(frozen=True)
class ForecastSection:
    """Forecasts (/forecast, /deal, /health, /adjust, /note, /revisions) and the backtest."""

    default_period: str = "本季"  # 本月 | 下月 | 本季 | Q1..Q4
    draws: int = 10_000  # Monte Carlo draws per forecast
    intent_cap: float = 0.35  # an intent letter lacking any hard condition is capped at this win probability
    base_rate_prior: float = 0.25  # win rate assumed before any closed history exists
    prior_strength: float = 20.0  # pseudo-deals: how much history it takes to move away from the base rate
    month_sd_prior: float = 0.15  # prior log-sd of a period's common shock (rates wander period to period)
    confidence_band: float = 0.15  # 置信度 = chance the outcome lands within ±band of the P50
    min_fit_deals: int = 30  # fewer closed deals with details than this: coefficients stay at their priors
    history_periods: int = 12  # how many past periods the timing and new-deal rates learn from
    slip_prior_days: float = 10.0  # expected-close slip assumed with no history (mean days late)
    slip_prior_sd_days: float = 25.0
    targets: dict[str, float] = field(default_factory=dict)  # "company:本季" / "team:华东一组:本月" / "rep:r1:本月" → 元
    reasons: tuple[str, ...] = ("客户CFO出国，审批延迟", "新增竞争对手低价搅局", "预算削减", "客户组织架构调整",
                                "技术验证未通过", "法务审核延期", "客户采购流程变更", "提前签约", "需求范围扩大",
                                "数据录入更正")
    chart_dir: str = ""  # /revisions heatmap PNGs; empty = <bot.data_dir>/charts
    # a rep's /adjust that raises the forecast by more than these waits for their manager's approval; 0 = never
    approval_step_pct: float = 20.0  # win-probability points
    approval_amount_pct: float = 20.0  # % of the deal's amount
    approval_close_days: int = 30  # expected close moved earlier by more than this many days
    health: ForecastHealthSection = ForecastHealthSection()


@dataclass(frozen=True)
class TodaySection:
    """/今日 (/today): each person's to-do in one card, and whether it is sent every working morning."""

    enabled: bool = False  # send it each working morning (weekends and public holidays skipped)
    at: str = "08:45"  # local time (bot.timezone) of the morning card
    max_lines: int = 8  # items shown per part of the card; the rest is counted ("还有 N 条")


@dataclass(frozen=True)
class PipelineSection:
    """/漏斗 (/pipeline): stage order and how long the daily snapshots are kept."""

    stages: tuple[str, ...] = ("初步接触", "需求确认", "方案报价", "商务谈判")  # open stages, first to last
    compare_days: int = 7  # "changes since": this many days ago
    keep_days: int = 120  # snapshots older than this are deleted
    snapshot_at: str = "00:10"  # local time of the nightly snapshot


@dataclass(frozen=True)
class StoreAreaSection:
    """A sales area of retail stores and its area manager (区域经理)."""

    name: str = ""
    manager: str = ""  # person id or name of the area manager
    competitor_note: str = ""  # the area's competitor-layout note, sent with 场效 advice


@dataclass(frozen=True)
class StoreEntrySection:
    """One retail store ([[stores.list]])."""

    id: str = ""
    name: str = ""
    area: str = ""
    type: str = ""  # store type: picks the planogram folder <stores.planogram_dir>/<type>/
    manager: str = ""  # person id or name of the store manager (店长)
    clerks: tuple[str, ...] = ()  # person ids or names of the clerks (店员)
    opens: str = "10:00"
    closes: str = "22:00"
    city: str = ""  # for the weather
    timezone: str = "Asia/Shanghai"
    latitude: float | None = None
    longitude: float | None = None
    video_url: str = ""  # a short video of how this store invites customers (sent to weaker stores nearby)


@dataclass(frozen=True)
class StoreWifiSection:
    """How Wi-Fi probe records become visits (handlers/stores/wifi.py DwellParams; same defaults)."""

    gap_min: float = 10.0
    min_visit_s: float = 60.0
    min_records: int = 2
    min_rssi: float = -85.0
    max_visit_min: float = 240.0
    staff_span_share: float = 0.5
    staff_min_days: int = 2
    staff_day_share: float = 0.5


@dataclass(frozen=True)
class StoresSection:
    """Retail stores: the four-colour health code, fix cards, actions on red (handlers/stores/)."""

    receptions_healthy: float = 12.0  # 人效: receptions per person per day, green at/above
    receptions_red: float = 8.0  # … red below this for `receptions_red_days` days running
    receptions_red_days: int = 3
    exposure_healthy: float = 0.90  # 货效: key-product exposure from the shelf photo, green at/above
    exposure_red: float = 0.70  # … red below
    dwell_healthy_min: float = 3.2  # 场效: average dwell (minutes) from Wi-Fi, green at/above
    dwell_red_min: float = 2.5  # … red below
    conversion_healthy: float = 0.18  # 转化: experiences that became a deal, green at/above
    conversion_window_days: int = 14  # conversion is measured over the experiences of this many days
    experience_deal_hours: int = 72  # an experience without a deal this long after it turns 转化 red
    fix_on_orange: bool = False  # orange dimensions open fix tasks too
    escalate_after_hours: int = 24  # an open fix task this old goes to the area manager (once)
    sweep_after_close_minutes: int = 30  # the day's health is computed this long after the store closes
    morning_time: str = "08:30"  # store-local time of the morning messages (rainy-day pack on promotion days)
    trend_days: int = 14  # /store trend and the stores × days chart
    promotion_days: tuple[str, ...] = ()  # YYYY-MM-DD promotion days (more come from `import promotions`)
    planogram_dir: str = "planograms"  # one folder per store type: <planogram_dir>/<type>/
    rules_dirs: tuple[str, ...] = ("rules.d/stores",)  # admin-edited script packs / advice (TOML), over the shipped ones
    industry_receptions: float = 9.4  # /baseline 门店人效: industry mean
    baseline_receptions: float = 12.6  # … healthy line
    wifi_token: str = secret_field("SALESPULSE_WIFI_TOKEN")  # token of the Wi-Fi probe webhook
    wifi_path: str = "/stores/wifi"  # path of the Wi-Fi probe webhook; enabled when the token is set
    wifi: StoreWifiSection = StoreWifiSection()
    areas: tuple[StoreAreaSection, ...] = ()
    list: tuple[StoreEntrySection, ...] = ()

    @property
    def enabled(self) -> bool:
        """The Wi-Fi probe webhook (adapters/wifi.py) is served when its token is set."""
        return bool(self.wifi_token)


@dataclass(frozen=True)
class WeatherSection:
    """Weather per city and day (handlers/stores/weather.py), for the rainy-day script pack."""

    provider: str = "open-meteo"  # open-meteo (no key) | qweather (API key) | off
    api_key: str = secret_field("SALESPULSE_WEATHER_KEY")
    base_url: str = ""  # empty = the provider's public endpoint
    geo_url: str = ""  # city → coordinates lookup; empty = the provider's
    rain_mm: float = 1.0  # a day with at least this much precipitation is rainy
    timeout_s: float = 10.0


@dataclass(frozen=True)
class ConversationSection:
    """Objection × strategy labels on every customer / rep turn (handlers/conversation/)."""

    enabled: bool = True  # label every customer and rep message as it is archived
    packs_dirs: tuple[str, ...] = ("conversation.d",)  # admin packs: every *.toml here, after the shipped pack
    extra_files: tuple[str, ...] = ()  # more pack files, loaded last
    use_model: bool = False  # let a trained character n-gram model (model.npz) add labels it is very sure of
    model_min_prob: float = 0.9  # … at or above this probability
    text_max_chars: int = 2000  # a longer turn is classified on its first characters (bounds the cost)


@dataclass(frozen=True)
class HealthSection:
    max_inbox_age_s: float = 300.0  # /readyz fails when the oldest unprocessed event waits longer than this
    max_outbox_backlog: int = 1000  # … or when more replies than this are due and unsent


@dataclass(frozen=True)
class MetricsSection:
    enabled: bool = False
    port: int = 0  # 0 = on the serve port; else its own listener on [server] host
    path: str = "/metrics"
    token: str = secret_field("SALESPULSE_METRICS_TOKEN")  # empty = no token (keep the port private)


@dataclass(frozen=True)
class BackupSection:
    enabled: bool = False
    cron: str = "30 3 * * *"
    folder: str = "backups"  # relative: to bot.toml's folder
    keep: int = 14
    before_migrations: bool = True  # a start that must migrate the database writes a backup first


@dataclass(frozen=True)
class LoggingSection:
    format: str = "text"  # text | json
    level: str = "info"  # debug | info | warning | error (SalesPulse's own loggers while serving)


@dataclass(frozen=True)
class Config:
    bot: BotSection = BotSection()
    server: ServerSection = ServerSection()
    outbox: OutboxSection = OutboxSection()
    scheduler: SchedulerSection = SchedulerSection()
    org: OrgSection = OrgSection()
    wecom: WeComSection = WeComSection()
    dingtalk: DingTalkSection = DingTalkSection()
    feishu: FeishuSection = FeishuSection()
    console: ConsoleSection = ConsoleSection()
    silence: SilenceSection = SilenceSection()
    heatmap: HeatmapSection = HeatmapSection()
    baseline: BaselineSection = BaselineSection()
    digests: DigestSection = DigestSection()
    alerts: AlertsSection = AlertsSection()
    asr: AsrSection = AsrSection()
    debrief: DebriefSection = DebriefSection()
    practice: PracticeSection = PracticeSection()
    calls: CallsSection = CallsSection()
    telephony: TelephonySection = TelephonySection()
    links: LinksSection = LinksSection()
    rules: RulesSection = RulesSection()
    forecast: ForecastSection = ForecastSection()
    stores: StoresSection = StoresSection()
    today: TodaySection = TodaySection()
    pipeline: PipelineSection = PipelineSection()
    weather: WeatherSection = WeatherSection()
    coaching: CoachingSection = CoachingSection()
    conversation: ConversationSection = ConversationSection()
    health: HealthSection = HealthSection()
    metrics: MetricsSection = MetricsSection()
    backup: BackupSection = BackupSection()
    logging: LoggingSection = LoggingSection()
    source: str = field(default="", metadata={"internal": True})

    def enabled_platforms(self) -> list[str]:
        return [name for name in ("wecom", "dingtalk", "feishu") if getattr(self, name).enabled]


# ---------------------------------------------------------------- loading


def _type_name(tp: Any, say: Any) -> str:
    """The expected type in the admin's language and TOML's words (not Python's `str` / `int`)."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        return say("config_errors.list_of", inner=_type_name(inner, say))
    if origin in (types.UnionType, typing.Union):
        return say("config_errors.or").join(_type_name(a, say) for a in typing.get_args(tp))
    if origin is dict or dataclasses.is_dataclass(tp):
        return say("config_errors.kind_table")
    name = {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp)
    return say(f"config_errors.kind_{name}") if name else str(tp)


def _kind(value: Any, say: Any) -> str:
    """What the admin wrote, in the admin's language and TOML's words."""
    for tp, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
                     (dict, "table")):
        if isinstance(value, tp):
            return say(f"config_errors.kind_{name}")
    return say("config_errors.kind_datetime")


def _error_locale(data: dict[str, Any] | None) -> str:
    """Which language a bot.toml mistake is reported in: the file's own [bot] locale when it names one we have,
    else SALESPULSE_LOCALE, else zh-CN. Why: the mistake may be in the very file that sets the language."""
    wanted = (data or {}).get("bot", {}) if isinstance((data or {}).get("bot"), dict) else {}
    for candidate in (wanted.get("locale"), os.environ.get("SALESPULSE_LOCALE")):
        if isinstance(candidate, str) and candidate in _locales():
            return candidate
    return "zh-CN"


_TOML_WHERE = re.compile(r"^(?P<detail>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")


_HEADER_LINE = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(#.*)?$")
_KEY_LINE = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)")


def _key_parts(text: str) -> list[str]:
    return [a or b or c for a, b, c in _KEY_PART.findall(text)]


def _key_lines(lines: list[str]) -> dict[str, int]:
    """Dotted path ("dingtalk.enabled", "org.people[1].admin", "wecom") → the line that sets or opens it.

    Keys are placed in the table their header opened, so `enabled` under [dingtalk] is not mistaken for the one
    under [wecom], and the n-th [[org.people]] block is people[n-1]. Multi-line strings and arrays are not parsed:
    this is a pointer for the admin, the values themselves come from tomllib."""
    found: dict[str, int] = {}
    table = ""
    arrays: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        header = _HEADER_LINE.match(line)
        if header and "=" not in line.split("#", 1)[0]:
            name = ".".join(_key_parts(header.group(2)))
            if header.group(1) == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                found.setdefault(name, number)
                name = f"{name}[{arrays[name]}]"
            table = name
            found.setdefault(table, number)
            continue
        key = _KEY_LINE.match(line)
        if key:
            dotted = ".".join([*([table] if table else []), *_key_parts(key.group(1))])
            found.setdefault(dotted, number)
    return found


class _Loader:
    def __init__(self, path: str, text: str, locale: str = "zh-CN") -> None:
        from prompts import Prompts

        self.path = path
        self.lines = text.splitlines()
        self._key_lines: dict[str, int] | None = None
        self.say = Prompts(locale).t

    def line_of(self, dotted: str) -> str:
        """Line number of a key (or of the nearest enclosing key or table), so the admin can jump straight to it."""
        if self._key_lines is None:
            self._key_lines = _key_lines(self.lines)
        path = dotted
        while path:
            if path in self._key_lines:
                return f":{self._key_lines[path]}"
            path = path[:path.rindex("[")] if path.endswith("]") else path.rpartition(".")[0]
        return ""

    def fail(self, dotted: str, key: str, **values: Any) -> typing.NoReturn:
        """One line: file:line: key: what is wrong (prompts config_errors.<key>, in the admin's language)."""
        raise ConfigError(f"{self.path}{self.line_of(dotted)}: {dotted}: {self.say('config_errors.' + key, **values)}")

    def convert(self, tp: Any, value: Any, dotted: str) -> Any:
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                self.fail(dotted, "expected", want=self.say("config_errors.kind_table"), got=_kind(value, self.say))
            return self.build(tp, value, dotted)
        if origin is tuple:
            inner = typing.get_args(tp)[0]
            if not isinstance(value, list):
                self.fail(dotted, "expected", want=_type_name(tp, self.say), got=_kind(value, self.say))
            return tuple(self.convert(inner, v, f"{dotted}[{i}]") for i, v in enumerate(value))
        if origin is dict:
            key_tp, val_tp = typing.get_args(tp)
            if not isinstance(value, dict):
                self.fail(dotted, "expected", want=self.say("config_errors.kind_table"), got=_kind(value, self.say))
            return types.MappingProxyType(
                {str(k): self.convert(val_tp, v, f"{dotted}.{k}") for k, v in value.items()}
            )
        if origin in (types.UnionType, typing.Union):
            for option in typing.get_args(tp):
                try:
                    return self.convert(option, value, dotted)
                except ConfigError:
                    continue
            self.fail(dotted, "expected", want=_type_name(tp, self.say), got=_kind(value, self.say))
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if tp is bool and not isinstance(value, bool):
            self.fail(dotted, "expected_bool", got=_kind(value, self.say))
        if tp in (int, float) and isinstance(value, bool):
            self.fail(dotted, "expected", want=_type_name(tp, self.say), got=self.say("config_errors.kind_boolean"))
        if tp in (str, int, float, bool) and not isinstance(value, tp):
            self.fail(dotted, "expected", want=_type_name(tp, self.say), got=_kind(value, self.say))
        return value

    def build(self, cls: type, table: dict[str, Any], prefix: str) -> Any:
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        kwargs: dict[str, Any] = {}
        for key, value in table.items():
            dotted = f"{prefix}.{key}" if prefix else key
            if key not in known:
                self.fail(dotted, "unknown_key", known=",".join(sorted(known)))
            kwargs[key] = self.convert(hints[key], value, dotted)
        for f in known.values():
            env = f.metadata.get("env")
            if env and os.environ.get(env):
                kwargs[f.name] = os.environ[env]
            elif f.name not in kwargs and dataclasses.is_dataclass(hints[f.name]):
                # a section absent from the file is still built, so its secrets can come from the environment
                kwargs[f.name] = self.build(hints[f.name], {}, f"{prefix}.{f.name}" if prefix else f.name)
        return cls(**kwargs)


# Keys whose value must be one of a few words: a typo here would otherwise be noticed only when nothing happens.
_ASR_BACKENDS = ("platform", "funasr")  # who can be asked for a voice note's words ([asr] order)
_CHOICES: dict[str, tuple[str, ...]] = {
    "dingtalk.mode": ("stream", "http"),
    "feishu.mode": ("http", "ws"),
    "weather.provider": ("open-meteo", "qweather", "off"),
    "logging.format": ("text", "json"),
    "logging.level": ("debug", "info", "warning", "error"),
}
_PERSON_ROLES = ("rep", "manager", "cs", "colleague")
_CHAT_PLATFORMS = ("wecom", "dingtalk", "feishu", "console")


def _locales() -> tuple[str, ...]:
    from importlib import resources

    folder = resources.files("prompts").joinpath("locales")
    return tuple(sorted((e.name for e in folder.iterdir() if e.is_dir()), key=lambda n: (n != "zh-CN", n)))


def _check_values(config: Config, loader: _Loader) -> None:
    """Values that have the right type but cannot work: a locale without texts, a time zone or cron string that
    would only fail (with a traceback) when `serve` or `chat` first uses it, a mode or role that matches nothing."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    def one_of(dotted: str, value: str, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            loader.fail(dotted, "one_of", allowed=", ".join(allowed), got=repr(value))

    one_of("bot.locale", config.bot.locale, _locales())
    for dotted, allowed in _CHOICES.items():
        section, key = dotted.split(".")
        one_of(dotted, getattr(getattr(config, section), key), allowed)
    for dotted, value, least in (("bot.dispatch_batch", config.bot.dispatch_batch, 1),
                                 ("bot.serve_batch", config.bot.serve_batch, 1),
                                 ("outbox.max_attempts", config.outbox.max_attempts, 1),
                                 ("scheduler.max_catch_up", config.scheduler.max_catch_up, 0),
                                 ("asr.workers", config.asr.workers, 1), ("asr.queue_size", config.asr.queue_size, 1),
                                 ("asr.max_note_s", config.asr.max_note_s, 1),
                                 ("asr.max_single_note_s", config.asr.max_single_note_s, 1),
                                 ("asr.max_archive_note_s", config.asr.max_archive_note_s, 1),
                                 ("asr.max_audio_bytes", config.asr.max_audio_bytes, 1024),
                                 ("backup.keep", config.backup.keep, 1),
                                 ("health.max_outbox_backlog", config.health.max_outbox_backlog, 0)):
        if value < least:  # 0 attempts would park every reply as dead unsent; 0 rows per batch would never dispatch
            loader.fail(dotted, "at_least", least=least, got=value)
    for i, name in enumerate(config.asr.order):
        one_of(f"asr.order[{i}]", name, _ASR_BACKENDS)
    for i, person in enumerate(config.org.people):
        one_of(f"org.people[{i}].role", person.role, _PERSON_ROLES)
    for i, team in enumerate(config.org.teams):
        if team.digest_chat:
            platform, _, chat = team.digest_chat.partition(":")
            if platform not in _CHAT_PLATFORMS or not chat:
                loader.fail(f"org.teams[{i}].digest_chat", "digest_chat", platforms=", ".join(_CHAT_PLATFORMS),
                            got=repr(team.digest_chat))
    for dotted, zone in (("bot.timezone", config.bot.timezone), ("scheduler.timezone", config.scheduler.timezone),
                         ("telephony.timezone", config.telephony.timezone)):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            loader.fail(dotted, "timezone", zone=repr(zone))
    from bot.scheduler import parse_cron  # late: the scheduler imports this module
    from prompts import render

    crons = [(f"scheduler.jobs[{i}].cron", job.cron) for i, job in enumerate(config.scheduler.jobs) if job.enabled]
    crons += [(f"{name}.org_sync_cron", getattr(config, name).org_sync_cron) for name in ("wecom", "dingtalk", "feishu")
              if getattr(config, name).org_sync_cron]  # empty = no nightly sync
    if config.backup.enabled:
        crons.append(("backup.cron", config.backup.cron))
    for dotted, cron in crons:
        try:
            parse_cron(cron, config.scheduler.timezone)
        except ValueError as exc:
            loader.fail(dotted, "cron", cron=repr(cron), reason=render(exc, loader.say))


# What each platform cannot work without (its section's key → the environment variable that may supply it, or "").
# Why: `serve` used to start an enabled platform with empty secrets and only fail at the first token fetch or
# callback; an enabled platform that cannot work now stops the start with these keys named.
REQUIRED_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "wecom": (("corp_id", ""), ("agent_id", ""), ("secret", "SALESPULSE_WECOM_SECRET"),
              ("token", "SALESPULSE_WECOM_TOKEN"), ("encoding_aes_key", "SALESPULSE_WECOM_AES_KEY")),
    "dingtalk": (("client_id", ""), ("client_secret", "SALESPULSE_DINGTALK_SECRET")),
    "feishu": (("app_id", ""), ("app_secret", "SALESPULSE_FEISHU_SECRET")),
}


def missing_platform_keys(config: Config) -> dict[str, list[tuple[str, str]]]:
    """Enabled platforms whose required keys are empty: {platform: [(key, env var or ""), …]}."""
    out: dict[str, list[tuple[str, str]]] = {}
    for platform, keys in REQUIRED_KEYS.items():
        section = getattr(config, platform)
        if not section.enabled:
            continue
        lacking = [(key, env) for key, env in keys if not getattr(section, key)]
        if lacking:
            out[platform] = lacking
    return out


# Keys that used to have a twin elsewhere: an old bot.toml still loads (the value moves to its one place), and a
# file that sets both to different values is told so instead of one of them silently winning.
MOVED_KEYS: dict[str, str] = {
    "debrief.short_note_s": "asr.max_note_s",
    "debrief.long_note_s": "asr.max_single_note_s",
}


def _move_keys(data: dict[str, Any], loader: _Loader) -> None:
    for old, new in MOVED_KEYS.items():
        (old_sec, old_key), (new_sec, new_key) = old.split("."), new.split(".")
        section = data.get(old_sec)
        if not isinstance(section, dict) or old_key not in section:
            continue
        value = section.pop(old_key)
        target = data.setdefault(new_sec, {})
        if not isinstance(target, dict):
            continue  # the loader reports the wrong type of [new_sec] itself
        if new_key in target and target[new_key] != value:
            loader.fail(old, "moved_conflict", new=new, old_value=value, new_value=target[new_key])
        target[new_key] = value


def load_config(path: str | os.PathLike[str] | None, *, error_locale: str | None = None) -> Config:
    """Load bot.toml; `None` gives the embedded defaults (used by the demo).

    Mistakes are reported in `error_locale` when the caller knows it (doctor --locale), else in the file's own
    [bot] locale, else SALESPULSE_LOCALE, else zh-CN."""
    if path is None:
        return dataclasses.replace(_Loader("<defaults>", "").build(Config, {}, ""), source="<defaults>")
    from prompts import Prompts

    p = Path(path)
    say = Prompts(error_locale or _error_locale(None)).t
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(say("config_errors.not_found", path=p)) from None
    except OSError as exc:
        from prompts.library import os_reason

        raise ConfigError(say("config_errors.cannot_read", path=p, reason=os_reason(exc, say))) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.match(str(exc))
        from prompts.library import toml_detail, toml_message

        if where:
            found = where.groupdict()
            raise ConfigError(say("config_errors.bad_toml_at", path=p, **{
                **found, "detail": toml_message(found["detail"], say)})) from None
        raise ConfigError(say("config_errors.bad_toml", path=p, detail=toml_detail(exc, say))) from None
    loader = _Loader(str(p), text, error_locale or _error_locale(data))
    _move_keys(data, loader)
    config = loader.build(Config, data, "")
    _check_values(config, loader)
    return dataclasses.replace(config, source=str(p.resolve()))


def describe(config: Config) -> list[tuple[str, str]]:
    """Flattened key/value pairs for `doctor`, with secrets shown only as set/unset."""
    rows: list[tuple[str, str]] = []

    def walk(obj: Any, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            if f.metadata.get("internal"):
                continue
            value = getattr(obj, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if f.metadata.get("secret"):
                rows.append((key, "set" if value else "unset"))
            elif dataclasses.is_dataclass(value):
                walk(value, key)
            elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
                rows.append((key, f"{len(value)} entries"))
            else:
                rows.append((key, repr(value)))

    walk(config, "")
    return rows
