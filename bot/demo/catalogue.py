"""The demo company's product catalogue: what its three teams sell, with model codes and price ranges in 元.

Model codes matter: customers ask about "GW-300" in chat, reps send "附件:GW-300型号参数.pdf", and the rules'
"同一客户3次不同产品询价" needs distinct products to be recognisable in text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    code: str  # model code used in chat and file names
    name: str  # catalogue name
    line: str  # product line (forecast groups similar deals by it)
    industry: str  # the customer industry it is mainly sold to
    min_amount: int  # typical deal size in 元
    max_amount: int

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"


CATALOGUE: tuple[Product, ...] = (
    Product("GW-300", "工业物联网网关", "工业物联网", "制造业", 60_000, 240_000),
    Product("QC-8", "视觉质检相机", "智能质检", "制造业", 120_000, 480_000),
    Product("EMS-2", "能耗管理系统", "能源管理", "制造业", 180_000, 650_000),
    Product("MES-Pro", "生产执行系统", "生产管理", "制造业", 380_000, 1_500_000),
    Product("PM-5", "预测性维护平台", "设备运维", "制造业", 150_000, 560_000),
    Product("POS-5", "智能收银终端", "门店数字化", "零售连锁", 50_000, 300_000),
    Product("FC-2", "客流分析摄像头", "门店数字化", "零售连锁", 40_000, 260_000),
    Product("ESL-1", "电子价签", "门店数字化", "零售连锁", 80_000, 520_000),
    Product("CRM-M", "会员营销云", "会员营销", "零售连锁", 60_000, 360_000),
    Product("XD-3", "巡店宝App", "门店运营", "零售连锁", 30_000, 150_000),
    Product("SC-STD", "销售云标准版", "销售云", "SaaS", 20_000, 90_000),
    Product("SC-PRO", "销售云专业版", "销售云", "SaaS", 60_000, 240_000),
    Product("SC-ENT", "销售云旗舰版", "销售云", "SaaS", 150_000, 400_000),
    Product("KF-1", "客服工单云", "客服云", "SaaS", 30_000, 160_000),
    Product("BI-2", "BI数据看板", "数据分析", "SaaS", 40_000, 200_000),
)

INDUSTRIES: tuple[str, ...] = ("制造业", "零售连锁", "SaaS")


def for_industry(industry: str) -> tuple[Product, ...]:
    return tuple(p for p in CATALOGUE if p.industry == industry)


def by_code(code: str) -> Product:
    for p in CATALOGUE:
        if p.code == code:
            return p
    raise KeyError(code)
