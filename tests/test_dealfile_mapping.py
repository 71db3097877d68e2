"""Mappings that fill what an export lacks: constants, defaults, a stage from a second file, "lost after N days";
mapping mistakes as one "mapping.toml:line: why" sentence in the admin's language; the Olist mapping on the real
data (read in place from ../shared/data, skipped when absent)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import SHARED

from bot.errors import BadPayload
from handlers.forecast import dealfile
from handlers.forecast.book import Book
from handlers.forecast.periods import date_ms
from prompts import Prompts

ROOT = Path(__file__).resolve().parents[1]
OLIST = SHARED / "data" / "olist_marketing_funnel"
LEADS = OLIST / "olist_marketing_qualified_leads_dataset.csv"
TZ = ZoneInfo("UTC")

MAPPING = """
[source]
timezone = "UTC"
date_formats = ["%Y-%m-%d"]

[columns]
id = "lead"
created_at = "first"

[constants]
amount = "1"

[defaults]
stage = "open"

[lookups.won]
file = "won.csv"
key = "lead"
match = "id"
field = "stage"
found = "won"

[lookups.won_at]
file = "won.csv"
key = "lead"
match = "id"
field = "closed_at"
value = "day"

[status]
won = "won"
open = "open"

[rules]
lost_after_days = 30
"""


@pytest.fixture
def funnel(tmp_path):
    (tmp_path / "leads.csv").write_text("lead,first\nA,2024-01-01\nB,2024-01-01\nC,2024-02-20\nD,2024-01-05\n")
    (tmp_path / "won.csv").write_text("lead,day\nA,2024-01-20\nD,2024-03-01\n")  # the latest date: 2024-03-01
    (tmp_path / "map.toml").write_text(MAPPING)
    return tmp_path


def _read(folder: Path, mapping_text: str | None = None) -> dict[str, dealfile.ParsedDeal]:
    if mapping_text is not None:
        (folder / "map.toml").write_text(mapping_text)
    parsed = dealfile.read(folder / "leads.csv", dealfile.load_mapping(folder / "map.toml"))
    assert parsed.errors == []
    return {d.row.id: d for d in parsed.deals}


def test_constant_amount_stage_from_a_second_file_and_lost_after_n_days(funnel):
    rows = {k: d.row for k, d in _read(funnel).items()}
    assert all(r.amount == 1.0 for r in rows.values())
    assert rows["A"].status == "won" and rows["A"].closed_at == date_ms(date(2024, 1, 20), TZ)
    # B: not won within 30 days, and day 30 had passed by the export date → lost on day 30
    assert rows["B"].status == "lost" and rows["B"].closed_at == date_ms(date(2024, 1, 31), TZ)
    # C: 10 days old at the export date (2024-03-01) → still open, not lost
    assert rows["C"].status == "open" and rows["C"].closed_at is None
    # D: won only after its 30 days → lost on day 30 (from day 30 on the rule had called it lost: a backtest
    # between day 30 and the win must not see it open because of a win that came later)
    assert rows["D"].status == "lost" and rows["D"].closed_at == date_ms(date(2024, 2, 4), TZ)


def test_a_lost_after_deal_is_open_at_any_date_before_day_n(funnel):
    """No leak: seen from 2024-01-15 (B is 14 days old), B is open; from 2024-02-01 it was already lost."""
    book = Book.from_rows(d.row for d in _read(funnel).values())
    b = list(book.ids).index("B")
    assert book.open_at(date_ms(date(2024, 1, 15), TZ))[b]
    assert not book.open_at(date_ms(date(2024, 2, 1), TZ))[b]


def test_export_date_can_be_set(funnel):
    rows = _read(funnel, MAPPING.replace('timezone = "UTC"', 'timezone = "UTC"\nexport_date = "2024-01-25"'))
    assert rows["B"].row.status == "open"  # 24 days old at the export date


def test_defaults_fill_empty_cells_only(tmp_path):
    (tmp_path / "leads.csv").write_text("lead,first,value\nA,2024-01-01,\nB,2024-01-01,7\n")
    (tmp_path / "map.toml").write_text('[columns]\nid = "lead"\ncreated_at = "first"\namount = "value"\n'
                                       '[defaults]\namount = "5"\n')
    rows = _read(tmp_path)
    assert rows["A"].row.amount == 5 and rows["B"].row.amount == 7


@pytest.mark.parametrize("text,line,words", [
    ('[columns]\nid = "a"\ncreated_at = "b"\nprice = "c"\n', 4, "price"),
    ('[columns]\nid = "a"\n', 1, "created_at"),
    ('[columns]\nid = "a"\ncreated_at = "b"\namount = "c"\n[constants]\n\namount = "1"\n', 7, "amount"),
    ('[columns]\nid = "a"\ncreated_at = "b"\n[status]\nWon = "victory"\n', 5, "victory"),
    ('[columns]\nid = "a"\ncreated_at = "b"\n[rules]\nlost_after_days = -3\n', 5, "-3"),
    ('[columns]\nid = "a"\ncreated_at = "b"\n[lookups.x]\nfile = "f.csv"\nkey = "k"\nmatch = "id"\nfield = "stage"\n',
     4, "found"),
    ('[columns]\nid = "a"\ncreated_at = \n', 3, "TOML"),
])
def test_mapping_mistakes_name_the_line(tmp_path, text, line, words):
    f = tmp_path / "map.toml"
    f.write_text(text)
    with pytest.raises(BadPayload) as err:
        dealfile.load_mapping(f)
    msg = str(err.value)
    assert msg.startswith(f"{f}:{line}") and words in msg and "\n" not in msg


def test_an_unknown_field_suggests_the_close_one_and_is_not_cut(tmp_path):
    """All 32 field names in one line were cut by the echo limit ("…（384）"); now the close name and the deal fields."""
    f = tmp_path / "map.toml"
    f.write_text('[columns]\nid = "a"\ncreated_at = "b"\ncustomr = "c"\n')
    with pytest.raises(BadPayload) as err:
        dealfile.load_mapping(f)
    msg = str(err.value)
    assert "（是不是要写 customer？）" in msg and "closed_at" in msg and "…（" not in msg and "docs/deal-import.md" in msg
    with pytest.raises(BadPayload, match=r"did you mean customer\?"):
        dealfile.load_mapping(f, Prompts("en").t)


def test_the_import_doc_lists_every_field():
    doc = (ROOT / "docs" / "deal-import.md").read_text(encoding="utf-8")
    assert [n for n in dealfile.CORE_FIELDS + dealfile.DETAIL_FIELDS if f"`{n}`" not in doc] == []


def test_messages_follow_the_locale(tmp_path):
    f = tmp_path / "map.toml"
    f.write_text('[columns]\nid = "a"\n')
    with pytest.raises(BadPayload, match="必须写出"):
        dealfile.load_mapping(f)
    with pytest.raises(BadPayload, match="must name the source column"):
        dealfile.load_mapping(f, Prompts("en").t)
    (tmp_path / "d.csv").write_text("a,b\n,2024-01-01\nX,someday\n")
    f.write_text('[columns]\nid = "a"\ncreated_at = "b"\n[constants]\namount = "1"\n')
    parsed = dealfile.read(tmp_path / "d.csv", dealfile.load_mapping(f))
    assert parsed.errors == [f"{tmp_path / 'd.csv'}:2: 商机编号是空的",
                             f"{tmp_path / 'd.csv'}:3: 日期“someday”不符合格式 %Y-%m-%d, %Y/%m/%d, %Y-%m-%d %H:%M:%S,"
                             " %Y/%m/%d %H:%M"]


@pytest.mark.skipif(not LEADS.is_file(), reason=f"Olist data not found at {OLIST}")
def test_olist_mapping_reads_the_real_funnel():
    parsed = dealfile.read(LEADS, dealfile.load_mapping(ROOT / "mappings" / "olist_marketing_funnel.toml"))
    # one lead was "won" two days before its first contact: reported with its line, the rest read
    assert len(parsed.errors) == 1 and ":6359:" in parsed.errors[0]
    status = [d.row.status for d in parsed.deals]
    # 841 readable wins, of which those more than 180 days after first contact count as lost on day 180
    assert 760 < status.count("won") < 800 and len(status) == 7999
    assert status.count("open") > 0  # the youngest leads were not yet 180 days old at the export date
    assert all(d.row.owner == "" and d.row.amount == 1.0 for d in parsed.deals)


def test_the_generic_template_reads_a_partial_export_and_says_what_it_left_out(tmp_path, capsys):
    """A CRM export with eight of the template's 27 columns was refused outright ("列 行业,产品线,… 在文件里没有"),
    so a new user had to delete 19 mapping lines first. Descriptive and detail columns the file lacks are now read
    as blank and named in one notice; a deal reads as if their lines were deleted (no "has details" from empty
    cells)."""
    f = tmp_path / "deals.csv"
    f.write_text("商机编号,商机名称,负责人,客户,金额,阶段,创建日期,成交日期\n"
                 "A1,新系统,张三,华鑫,30000,赢单,2024-01-03,2024-02-01\n"
                 "A2,扩容,李四,同创,12000,跟进中,2024-01-10,\n", encoding="utf-8")
    generic = dealfile.load_mapping(ROOT / "mappings" / "generic.toml")
    parsed = dealfile.read(f, generic)
    assert parsed.errors == [] and [d.row.id for d in parsed.deals] == ["A1", "A2"]
    assert parsed.deals[0].row.status == "won" and parsed.deals[0].row.amount == 30000
    assert parsed.deals[0].details == {} and parsed.deals[1].row.owner == "李四"
    (note,) = parsed.notes
    left_out = note.split("里写的列 ")[1].split(" 文件里没有")[0].split(",")
    assert "行业" in left_out and "预算占比" in left_out and len(left_out) == 19 and "金额" not in left_out
    assert "按空白处理" in note
    header = f.read_text(encoding="utf-8").splitlines()[0].split(",")
    kept, section = [], ""
    for ln in (ROOT / "mappings" / "generic.toml").read_text(encoding="utf-8").splitlines():
        section = ln.strip() if ln.startswith("[") else section
        if section != "[columns]" or "=" not in ln or ln.split("=", 1)[1].strip().strip('"') in header:
            kept.append(ln)
    trimmed = tmp_path / "trimmed.toml"
    trimmed.write_text("\n".join(kept), encoding="utf-8")
    same = dealfile.read(f, dealfile.load_mapping(trimmed))
    assert same.notes == [] and [d.row for d in same.deals] == [d.row for d in parsed.deals]
    assert [d.details for d in same.deals] == [d.details for d in parsed.deals]


@pytest.mark.parametrize("field", ["amount", "stage", "closed_at", "id"])
def test_a_missing_column_that_decides_how_a_deal_counts_is_still_an_error(tmp_path, field):
    """A typo in the amount, stage, date or id column must not turn every deal valueless, open or unreadable."""
    header = {"id": "编号", "created_at": "创建", "amount": "金额", "stage": "阶段", "closed_at": "成交"}
    (tmp_path / "d.csv").write_text(",".join(v for k, v in header.items() if k != field) + "\n", encoding="utf-8")
    f = tmp_path / "map.toml"
    f.write_text("[columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in header.items()) + '[status]\n"赢单" = "won"\n',
                 encoding="utf-8")
    with pytest.raises(BadPayload, match=f"{header[field]} 在文件里没有"):
        dealfile.read(tmp_path / "d.csv", dealfile.load_mapping(f))


@pytest.mark.parametrize("cell,value", [
    ("¥1,234", 1234), ("1 234 元", 1234), ("12.5万", 125_000), ("1.2亿", 120_000_000), ("3.5k", 3500),
    ("RMB 5000", 5000), ("１２，０００", 12_000), ("US$ 1,000.50", 1000.5), ("12W", 120_000), ("8000块", 8000),
])
def test_amounts_are_read_as_exports_write_them(tmp_path, cell, value):
    """Full-width digits, currency codes and 亿/千/k/w units were "not a number" and the row was skipped."""
    (tmp_path / "d.csv").write_text(f'id,created,amount\nA,2024-01-01,"{cell}"\n', encoding="utf-8")
    f = tmp_path / "map.toml"
    f.write_text('[columns]\nid = "id"\ncreated_at = "created"\namount = "amount"\n')
    parsed = dealfile.read(tmp_path / "d.csv", dealfile.load_mapping(f))
    assert parsed.errors == [] and parsed.deals[0].row.amount == pytest.approx(value)


@pytest.mark.parametrize("cell", ["abc", "万", "nan", "12$$"])
def test_an_amount_that_is_no_number_is_a_row_error(tmp_path, cell):
    (tmp_path / "d.csv").write_text(f'id,created,amount\nA,2024-01-01,{cell}\nB,2024-01-01,5\n', encoding="utf-8")
    f = tmp_path / "map.toml"
    f.write_text('[columns]\nid = "id"\ncreated_at = "created"\namount = "amount"\n')
    parsed = dealfile.read(tmp_path / "d.csv", dealfile.load_mapping(f))
    assert [d.row.id for d in parsed.deals] == ["B"] and len(parsed.errors) == 1 and ":2:" in parsed.errors[0]
