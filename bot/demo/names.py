"""Name material for the demo company: Chinese person names with pinyin (for WeCom user ids), company names by
industry and region, phone numbers and WeCom-style external ids. Pure data plus seeded pickers.

Why pinyin: WeCom user ids of staff are usually the pinyin of their name (zhangwei, lina2), which is what the
archive records carry in `from` / `tolist`.
"""

from __future__ import annotations

import random
import string

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"), ("黄", "huang"),
    ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"),
    ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"), ("郑", "zheng"),
    ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"),
    ("曹", "cao"), ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
    ("袁", "yuan"), ("蔡", "cai"), ("蒋", "jiang"), ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"),
    ("魏", "wei"), ("苏", "su"), ("丁", "ding"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("钟", "zhong"),
    ("方", "fang"),
)

GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("婷", "ting"), ("浩", "hao"), ("宇", "yu"), ("鹏", "peng"), ("晨", "chen"), ("欣怡", "xinyi"),
    ("子涵", "zihan"), ("思远", "siyuan"), ("建华", "jianhua"), ("海燕", "haiyan"), ("志强", "zhiqiang"),
    ("晓东", "xiaodong"), ("雪", "xue"), ("琳", "lin"), ("斌", "bin"), ("凯", "kai"), ("佳琪", "jiaqi"),
    ("梦瑶", "mengyao"), ("文博", "wenbo"), ("俊", "jun"), ("倩", "qian"), ("颖", "ying"), ("亮", "liang"),
    ("峰", "feng"), ("晓燕", "xiaoyan"), ("国庆", "guoqing"), ("建国", "jianguo"), ("红梅", "hongmei"),
)

# Customer-side titles as people address each other in chat ("王总", "李经理", "张工"), by industry.
CONTACT_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "制造业": (("总", "总经理"), ("总", "副总经理"), ("经理", "采购经理"), ("工", "设备部工程师"), ("厂长", "厂长"),
            ("主管", "信息化主管"), ("总", "财务总监")),
    "零售连锁": (("总", "总经理"), ("经理", "运营经理"), ("经理", "采购经理"), ("店长", "区域店长"),
             ("主管", "信息化主管"), ("总", "财务总监")),
    "SaaS": (("总", "CEO"), ("总", "销售副总裁"), ("经理", "IT经理"), ("经理", "运营经理"), ("主管", "销售运营主管"),
             ("总", "财务总监")),
}

CITIES: dict[str, tuple[str, ...]] = {
    "华东": ("苏州", "无锡", "常州", "宁波", "杭州", "南京", "昆山", "嘉兴", "绍兴", "南通", "温州", "台州", "上海", "合肥"),
    "华南": ("广州", "深圳", "佛山", "东莞", "珠海", "中山", "厦门", "泉州", "惠州", "汕头", "南宁", "福州"),
    "全国": ("北京", "上海", "杭州", "深圳", "成都", "武汉", "西安", "南京", "广州", "长沙", "重庆", "天津"),
}

BRANDS: tuple[str, ...] = (
    "恒瑞", "华鑫", "金达", "宏远", "永盛", "鼎泰", "天成", "瑞丰", "嘉禾", "中联", "盛世", "华源", "鑫源", "众诚",
    "德信", "同创", "立达", "凯盛", "精工", "远航", "力拓", "汇通", "新航", "博远", "锦程", "华晟", "启明", "正阳",
    "安泰", "兴业", "百川", "乐家", "优品", "悦享", "好邻", "鲜达", "家佳", "云帆", "数智", "星图", "易联", "极客",
    "云杉", "蓝鲸", "青橙", "睿思", "智汇", "领航", "卓越", "海纳", "东方", "万方", "长风", "九州", "合力", "明德",
    "信达", "宝隆", "银河", "朗坤",
)

SUFFIXES: dict[str, tuple[tuple[str, str], ...]] = {
    # (full-name suffix, its prefix used in the short name: "恒瑞精密" is a substring of "苏州恒瑞精密机械有限公司")
    "制造业": (("精密机械有限公司", "精密"), ("电子科技有限公司", "电子"), ("汽车零部件有限公司", "汽车"),
            ("自动化设备有限公司", "自动化"), ("塑胶制品有限公司", "塑胶"), ("新材料股份有限公司", "新材料"),
            ("机电有限公司", "机电"), ("五金制品有限公司", "五金"), ("阀门有限公司", "阀门"),
            ("包装材料有限公司", "包装")),
    "零售连锁": (("超市连锁有限公司", "超市"), ("便利店有限公司", "便利店"), ("百货有限公司", "百货"),
             ("母婴用品连锁有限公司", "母婴"), ("大药房连锁有限公司", "大药房"), ("烘焙连锁有限公司", "烘焙"),
             ("服饰连锁有限公司", "服饰"), ("生鲜超市有限公司", "生鲜"), ("家居连锁有限公司", "家居"),
             ("眼镜连锁有限公司", "眼镜")),
    "SaaS": (("网络科技有限公司", "网络"), ("信息技术有限公司", "信息"), ("软件有限公司", "软件"),
             ("数据科技有限公司", "数据"), ("智能科技有限公司", "智能"), ("云计算有限公司", "云计算"),
             ("教育科技有限公司", "教育"), ("医疗科技有限公司", "医疗"), ("物流科技有限公司", "物流"),
             ("文化传媒有限公司", "文化")),
}

_ID_CHARS = string.ascii_letters + string.digits + "_-"


def person_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A unique Chinese name and its pinyin (e.g. ("张伟", "zhangwei"))."""
    while True:
        (s, sp), (g, gp) = rng.choice(SURNAMES), rng.choice(GIVEN)
        if s + g not in taken:
            taken.add(s + g)
            return s + g, sp + gp


def unique_user_id(base: str, taken: set[str]) -> str:
    """zhangwei, zhangwei2, … — how WeCom admins disambiguate same-name staff."""
    uid, n = base, 1
    while uid in taken:
        n += 1
        uid = f"{base}{n}"
    taken.add(uid)
    return uid


def mobile(rng: random.Random, taken: set[str]) -> str:
    """A unique mainland mobile number (11 digits, realistic prefixes)."""
    while True:
        number = rng.choice(("138", "139", "137", "136", "135", "150", "151", "158", "159", "186", "187", "188",
                             "177", "181", "189", "199")) + f"{rng.randrange(10**8):08d}"
        if number not in taken:
            taken.add(number)
            return number


def external_id(rng: random.Random, taken: set[str]) -> str:
    """A WeCom external-contact id: 'wm' (sometimes 'wo') plus 26 id characters."""
    while True:
        prefix = "wo" if rng.random() < 0.1 else "wm"
        value = prefix + "".join(rng.choice(_ID_CHARS) for _ in range(26))
        if value not in taken:
            taken.add(value)
            return value


def token(rng: random.Random, n: int = 24) -> str:
    """An opaque id (sdkfileid, room ids, link codes)."""
    return "".join(rng.choice(_ID_CHARS) for _ in range(n))


def company_name(rng: random.Random, industry: str, region: str, taken: set[str]) -> tuple[str, str, str]:
    """(full legal name, short name used in chat, city); unique across the company."""
    cities = CITIES[region]
    for _ in range(10_000):
        city, brand = rng.choice(cities), rng.choice(BRANDS)
        suffix, keyword = rng.choice(SUFFIXES[industry])
        full = f"{city}{brand}{suffix}"
        short = f"{brand}{keyword}"
        if full not in taken and short not in taken:
            taken.update((full, short))
            return full, short, city
    raise RuntimeError("name space exhausted")  # cannot happen at demo sizes (60 brands × 10 suffixes per industry)
