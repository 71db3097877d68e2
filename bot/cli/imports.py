"""`salespulse import KIND FILE …`: every importer in one subcommand. Each kind is a module exposing
`add_arguments(parser)` and `run(args) -> int`; add a line to IMPORT_KINDS to add one.
"""

from __future__ import annotations

import argparse
import importlib

IMPORT_KINDS: dict[str, tuple[str, str]] = {
    # kind: (module, one-line help)
    "archive": ("adapters.wecom.import_archive", "WeCom message archive, records already decrypted (JSONL)"),
    "org": ("bot.import_org", "org directory CSV: id,name,role,team,admin,department,phone,wecom_id,dingtalk_id,feishu_id"),
    "calls": ("bot.import_calls", "call records CSV: call_id,started_at,direction,rep,customer_phone,answered,duration_s"),
    "deals": ("bot.import_deals", "deals CSV/XLSX with a column mapping: FILE --map mappings/maven_crm.toml"),
    "transcripts": ("bot.import_transcripts", "call/voice transcripts with timestamps (JSONL) → golden snippets"),
    "procurement": ("bot.import_procurement", "procurement windows, ICS or CSV: name,start,end,customer,industry,kind"),
    "stores": ("bot.import_stores", "retail stores CSV/XLSX: id,name,area,type,manager,clerks,opens,closes,city,…"),
    "store-daily": ("bot.import_store_daily", "stores' daily POS figures CSV/XLSX: store,date,receptions,staff,dwell_min"),
    "wifi": ("bot.import_wifi", "Wi-Fi probe records CSV: time,store,device,rssi → visits and dwell per store-day"),
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import data: " + ", ".join(IMPORT_KINDS))
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, (module_name, help_text) in IMPORT_KINDS.items():
        module = importlib.import_module(module_name)
        kp = kinds.add_parser(kind, help=help_text)
        module.add_arguments(kp)
        kp.set_defaults(handler=module.run)
