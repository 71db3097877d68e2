"""Deal import: the generic template (CSV and XLSX), bad rows with line numbers, Maven's quirks."""

from __future__ import annotations

from pathlib import Path

from handlers.forecast import dealfile
from handlers.forecast.importer import import_deals
from store import deals as deal_store

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "mappings" / "generic_deals_template.csv"
GENERIC = ROOT / "mappings" / "generic.toml"


def test_generic_template_imports_details(store):
    parsed = dealfile.read(TEMPLATE, dealfile.load_mapping(GENERIC))
    assert parsed.errors == []
    counts = import_deals(store, parsed.deals, 0, "template")
    assert counts["deals"] == 2
    d = deal_store.get(store, "D-001")
    assert d.amount == 350_000 and d.status == "open" and d.details.intent_letter and not d.details.has_named_contact
    assert d.details.approver_met is False and d.details.tech_validation == 0.6 and d.details.legal_review == "pending"
    assert d.details.intent_force == "框架共识" and d.industry == "能源"
    assert deal_store.get(store, "D-002").status == "won"


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_kept(tmp_path):
    text = TEMPLATE.read_text(encoding="utf-8").splitlines()
    bad = [text[0], text[1], text[1].replace("D-001", "D-003").replace("35万", "abc"),
           text[1].replace("D-001", "D-004").replace("谈判", "神秘阶段"), text[2].replace("D-002", "D-005")]
    f = tmp_path / "deals.csv"
    f.write_text("\n".join(bad) + "\n", encoding="utf-8")
    parsed = dealfile.read(f, dealfile.load_mapping(GENERIC))
    assert [d.row.id for d in parsed.deals] == ["D-001", "D-005"]
    assert parsed.errors[0].startswith(f"{f}:3:") and parsed.errors[1].startswith(f"{f}:4:")


def test_xlsx_reads_like_csv(tmp_path):
    import csv

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    with TEMPLATE.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    f = tmp_path / "deals.xlsx"
    wb.save(f)
    parsed = dealfile.read(f, dealfile.load_mapping(GENERIC))
    assert parsed.errors == [] and [d.row.id for d in parsed.deals] == ["D-001", "D-002"]


def test_maven_quirks(tmp_path):
    maven = tmp_path / "m"
    maven.mkdir()
    (maven / "products.csv").write_text("product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n")
    (maven / "accounts.csv").write_text("account,sector\nAcme,technolgy\n")
    (maven / "sales_teams.csv").write_text("sales_agent,manager,regional_office\nAnn,Bob,West\n")
    (maven / "sales_pipeline.csv").write_text(
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Ann,GTXPro,Acme,Won,2017-01-02,2017-03-01,4500\n"
        "A2,Ann,GTXPro,Acme,Lost,2017-01-02,2017-03-02,0\n"
        "A3,Ann,MG Special,,Engaging,2017-02-02,,\n"
        "A4,Ann,MG Special,,Prospecting,,,\n")
    parsed = dealfile.read(maven / "sales_pipeline.csv", dealfile.load_mapping(ROOT / "mappings" / "maven_crm.toml"))
    rows = {d.row.id: d for d in parsed.deals}
    assert parsed.errors == []
    assert rows["A1"].row.amount == 4500 and rows["A1"].row.list_amount == 4821  # GTXPro = GTX Pro
    assert rows["A2"].row.amount == 4821  # lost: close_value 0 → list price
    assert rows["A3"].row.customer == "" and rows["A3"].row.amount == 55
    assert not rows["A4"].has_created
    assert rows["A1"].row.industry == "technolgy" and rows["A1"].team == "West"
