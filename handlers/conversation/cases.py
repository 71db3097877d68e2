"""Does a rep message tell a concrete case? The "再比较一下" check (B7) asks this of the rep's first two messages
after a customer hesitates.

A concrete case is a customer someone could go and ask: named ("嘉兴宏力化工", "同诚保经", "慢时光咖啡") or
specifically described ("苏州一家做精密零件的企业，60人的销售团队"), together with what happened to them (they
switched, bought, went live, cut costs from X to Y, have used it for 14 months). A bare user count ("给全国3000多家
奶茶店供杯子", "服务客户2600多家") or a crowd ("很多老板都在用") is social proof but not a case.

How: three cheap signals over the normalised text — an entity (a place followed by a name, a name with a company
suffix, a "一家做…的…" description, or a person a rep can introduce), a story (a time, a before/after, a change, a
use verb) — and no case when the only entity is a count. It is a heuristic and says so in the README; the dev set
measures it (bench.classify's hesitation_case_accuracy).
"""

from __future__ import annotations

import re

from handlers.conversation.lexicon import normalise

_PLACES = (
    "北京|上海|天津|重庆|广州|深圳|杭州|苏州|南京|无锡|常州|宁波|温州|嘉兴|湖州|绍兴|金华|台州|义乌|合肥|芜湖|"
    "南通|扬州|镇江|泰州|徐州|昆山|江阴|张家港|佛山|东莞|中山|珠海|惠州|江门|汕头|厦门|福州|泉州|漳州|济南|青岛|烟台|"
    "潍坊|临沂|郑州|洛阳|武汉|长沙|南昌|成都|绵阳|西安|太原|石家庄|保定|唐山|沈阳|大连|长春|哈尔滨|昆明|贵阳|南宁|"
    "海口|兰州|银川|西宁|乌鲁木齐|呼和浩特|拉萨|香港|澳门|台北|江苏|浙江|广东|山东|河南|河北|湖北|湖南|安徽|福建|"
    "江西|四川|云南|贵州|广西|山西|陕西|辽宁|吉林|黑龙江|甘肃|海南|华东|华南|华北|华中|西南|西北|东北|长三角|珠三角"
)
_SUFFIX = (
    "集团|公司|有限|股份|科技|化工|电机|五金|食品|超市|便利|咖啡|日化|环保|女装|男装|服饰|药房|大药房|药业|制药|内饰|"
    "座椅|装饰|保经|保险|经纪|银行|证券|医院|诊所|学校|教育|工厂|厂|餐饮|酒店|物流|电子|机械|机电|制造|包装|生鲜|连锁|"
    "百货|商贸|贸易|实业|控股|汽车|汽配|零部件|地产|鞋业|家居|家具|建材|纺织|塑业|塑胶|印务|传媒|医疗|器械|电器|照明|"
    "光电|能源|材料|精密|自动化|智能|软件|信息|网络|数据|奶茶|茶饮|烘焙|面包|母婴|美妆|服装|眼镜|健身|药店|堂|坊|轩|"
    "阁|记|号|铺|店|馆|院|中心|商场|广场|购物|水务|电力|钢铁|铸造|模具|阀门|泵业|轴承|仪表|纸业|印刷|化纤|橡胶"
)
# A place followed by a name ("芜湖瑞泰", "合肥的邻里鲜便利"), or a name with a company suffix ("宏祥电机").
_NAMED_PLACE = re.compile(rf"(?:{_PLACES})(?:市|省|区|县)?(?:的|那家|有家|这家)?[\u4e00-\u9fff]{{2,8}}")
_NAMED_SUFFIX = re.compile(rf"[\u4e00-\u9fffa-z]{{2,6}}(?:{_SUFFIX})(?![\u4e00-\u9fff]{{0,1}}(?:行业|类|领域))")
# A described customer: 一家做精密零件的企业, 有个做装修的客户, 楼下做茶叶批发的老陈.
_DESCRIBED = re.compile(
    r"(?:一家|有家|有个|一个|一位|那家)[^,.!?;，。！？；]{0,12}(?:的)?(?:企业|公司|客户|工厂|厂|店|门店|老板|品牌|集团|团队|商家|连锁)"
    r"|(?:做|开|搞)[^,.!?;，。！？；]{1,8}的(?:老板|企业|客户|公司|工厂|厂|店|老[\u4e00-\u9fff]|[\u4e00-\u9fff]总)"
    r"|(?:楼下|隔壁|附近|对面|同一条街)[^,.!?;，。！？；]{0,10}(?:的)?[\u4e00-\u9fff]{1,6}")
# Someone at the customer the rep can introduce: 他们设备科周工, 他们HRD, 厂长.
_CONTACT = re.compile(r"(?:他们|对方)(?:的)?[\u4e00-\u9fffa-z]{0,4}(?:总|工|经理|总监|负责人|厂长|店长|老板|cio|cto|hrd|hrvp|it)")
# What happened to them: a time, a before/after, a change, a use.
_STORY = re.compile(
    r"去年|今年|前年|上个?月|上半年|下半年|\d+\s*(?:个)?(?:月|年|天|周)|[一二两三四五六七八九十半]+(?:个)?(?:月|年)|"
    r"从[^,.!?;，。！？；]{0,12}(?:到|降到|缩到|减到|提到|涨到|变成)|降了|降到|少了|减少|提升|提高|提了|涨了|省了|省下|"
    r"缩短|缩到|翻倍|回本|"
    r"(?:用了|换了|换成|上了|选了|装了|签了|买了|切到|迁过来|换到|用的就是|用的是|在用|用到现在)|"
    r"(?:按期|提前|准时)(?:交付|完成|开业|上线)|上线(?:后|之后|了)|开业|返修|停机|效果|反馈|评价")
# A bare count of users/customers: the entity it gives is not a case by itself.
_COUNT_ONLY = re.compile(r"(?:\d+|[一二两三四五六七八九十百千万几]+)多?(?:万)?(?:家|个|位)")


def _entities(text: str) -> list[str]:
    found = [m.group() for m in _NAMED_PLACE.finditer(text)]
    found += [m.group() for m in _NAMED_SUFFIX.finditer(text)]
    found += [m.group() for m in _DESCRIBED.finditer(text)]
    return [e for e in found if not _COUNT_ONLY.match(e) and not _is_generic(e)]


_GENERIC = re.compile(r"^(?:我们|咱们|您|你|贵|他们|同行|行业|全国|很多|不少|大量|多)")


def _is_generic(entity: str) -> bool:
    """"我们工厂", "全国3000多家奶茶店", "同行业企业": a count or a category, not one customer."""
    return bool(_GENERIC.match(entity)) or bool(re.search(r"\d+多?家|[几百千万]+家|多家", entity))


def case_evidence(text: str) -> tuple[str, ...]:
    """The entity and the story that make `text` a concrete case, or () when it is not one."""
    norm = normalise(text)
    entities = _entities(norm)
    contact = _CONTACT.search(norm)
    story = _STORY.search(norm)
    if entities and (story or contact):
        return (entities[0], (story or contact).group())
    return ()


def is_concrete_case(text: str) -> bool:
    """A named or specifically described customer and what happened to them (a bare user count is not)."""
    return bool(case_evidence(text))
