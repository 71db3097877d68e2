"""What people say in the demo company's chats, by moment in a deal. Data, not bot output.

Placeholders: {c} how the rep addresses the contact ("王总"), {me} the rep's name, {co} our company, {s} the
customer's short name, {p} a product code, {pn} its name, {ver} a quote version, {case} another customer's short
name, {pct} a percentage, {wk} a number of weeks, {n} a quantity, {amt} an amount in 万元, {day} a weekday.
The objection lines carry the four objection types of the spec (预算 / 竞品 / 交付 / 信任) and "再比较一下".
"""

from __future__ import annotations

OUR_COMPANY = "智联云科"

REP_GREET = (
    "{c}您好，我是{co}的{me}，上周展会上加的您，想了解下贵司在{pn}这块有没有规划？",
    "{c}好，我是{co}{me}，{case}的李总推荐我联系您，听说你们在看{pn}？",
    "{c}您好，感谢留资，我是负责{s}这边的{me}，方便的时候聊两句？",
)
CUS_GREET = (
    "你好，是有这个打算，你先发点资料看看",
    "你好，我们今年确实在看{pn}，预算还在报",
    "可以，最近比较忙，你先微信上说",
    "你好，之前用过别家的，效果一般，想看看你们的",
)
REP_DISCOVER = (
    "{c}，方便说下现在有{scope}需要覆盖吗？",
    "贵司现在用的是什么系统？数据能导出来吗？",
    "这个项目是您这边牵头，还是信息部一起评估？最后谁拍板？",
    "预计什么时候要上线？有没有预算周期的要求？",
)
CUS_DISCOVER = (
    "{pilot}",
    "现在是Excel+老系统，数据很乱",
    "最后是我们老板拍板，财务也要过",
    "希望下个月底前能上线",
)
# industry-specific scope of a deal: what the rep asks about and how the customer sizes a pilot
SCOPE = {"制造业": "几条产线", "零售连锁": "几家门店", "SaaS": "多少个销售和客服账号"}
PILOT = {
    "制造业": ("先做{n}条线试点，效果好再全厂推", "先在一车间试，{n}台设备左右"),
    "零售连锁": ("我们有{stores}家门店，先拿{n}家试点", "先在{city}的几家店试，效果好再全铺"),
    "SaaS": ("销售团队{seats}个人，先开一半账号试用", "先给客服组{n}个人试用一个月"),
}
CUS_PRICE = (
    "{p}大概什么价位？",
    "{n}台的话单价能给到多少？",
    "你们{pn}是按年收费还是一次性买断？",
    "有没有阶梯价？量大能不能便宜点",
    "{p}和{p2}价格差多少？",
)
REP_QUOTE_TEXT = (
    "{c}，报价单v{ver}已发您，按{n}套算的，含首年维保，请查收",
    "{c}，根据昨天沟通调整了配置，报价单v{ver}发您了",
    "报价单v{ver}已更新，税点和运费都含了，您看下",
)
REP_MATERIAL_TEXT = (
    "附件:{p}型号参数.pdf",
    "{c}，{p}的参数表发您了，附件:{p}型号参数.pdf",
    "附件:{s}{pn}方案.pdf 您先看看，有问题随时找我",
)
CUS_ACK = (
    "收到", "好的，我看下", "收到，回头内部讨论下", "嗯嗯，谢谢", "好的，我转给技术看看", "OK",
)
CUS_OBJECTION = {
    "预算": ("预算今年比较紧，这个价格超了不少", "老板说投入太大了，能不能分期？", "这个价格我们报不上去"),
    "竞品": ("另一家报价比你们低两成", "同行用的是别家的，说也还行", "你们和{rival}比有什么优势？"),
    "交付": ("交期要{wk}周太长了，我们下个月就要用", "实施周期能不能压缩？业务不能停太久", "售后响应多久能到现场？"),
    "信任": ("你们有没有同行业的案例？", "你们公司成立几年了？规模多大？", "数据放你们云上安全吗？"),
    "再比较": ("我们再比较一下", "再比较一下吧，不急", "我们内部再比较一下几家"),
}
REP_RESPONSE = {
    "案例佐证": ("理解。{case}去年也是同样顾虑，上线三个月{gain}，我把案例发您",
             "{case}和贵司规模差不多，用了半年，人效提升{pct}%，可以安排您去参观",),
    "数据支撑": ("按您现在的规模测算，大概{wk}个月能回本，测算表我做好了",
             "我们第三方测评报告里，{metric}，报告发您参考",),
    "风险对冲": ("可以先小范围试点，效果不达标全额退款，写进合同",
             "交期这块我们可以签延期赔付条款，每延一周赔合同额的{late}%",
             "售后我们本地有服务团队，4小时响应、24小时内到现场，可以写进合同",),
    "授权让步": ("我跟领导申请了，首批可以给到{disc}折，这周内签有效",
             "维保可以多送一年，价格上确实没空间了",),
}
# what a reference customer gained, and what a third-party test measured, by industry ({pct}: 12–42)
GAIN = {"制造业": "不良率降了{pct}%", "零售连锁": "收银排队时间少了{pct}%", "SaaS": "销售跟进及时率提高了{pct}%"}
METRIC = {"制造业": "设备故障预警准确率{acc}%", "零售连锁": "客流统计准确率{acc}%", "SaaS": "系统可用性99.9%"}
# which answers fit which objection: a price worry gets a concession or an ROI sum, "售后多久到现场" a guarantee
ANSWERS = {"预算": ("授权让步", "数据支撑"), "竞品": ("案例佐证", "数据支撑"), "交付": ("风险对冲",),
           "信任": ("案例佐证", "数据支撑"), "再比较": ("案例佐证", "授权让步")}
RIVALS = ("华兴科技", "云图智造", "商汇云", "易店通", "数联软件")
# the customer writing between two of the rep's touches (no objection, no hesitation: nothing to coach)
CUS_CHECK_IN = (
    "方案我们在内部过，有问题再找你",
    "资料领导看过了，在排时间开会",
    "上次的参数技术在核对",
    "你们的资料我转给IT了",
    "资料收到了，技术在看",
    "我们IT在看接口文档",
)
CUS_PROGRESS = (
    "方案内部过了，下周和老板汇报",
    "技术那边测试下来没问题",
    "还在走流程，下周给你答复",
    "财务在核预算，等等",
    "合同发我看看吧",
    "法务在审合同，有两条要改",
)
REP_FOLLOW = (
    "{c}，上次说的方案内部讨论得怎么样了？",
    "{c}，周{day}方便过去拜访吗？",
    "{c}，我们新出了{pn}的案例集，发您参考",
    "{c}，测试环境已经开好了，账号密码私信您",
    "{c}，合同条款我们法务改好了，您看下",
)
# {when}: the meeting's day and hour as said in chat ("明天上午10点", "周一下午2点"); the calendar entry matches it
REP_MEETING = (
    "{c}，约{when}去现场看一下？我带技术同事一起",
    "{c}，{when}线上演示可以吗？会议链接发您",
    "{c}，{when}开个会把方案过一遍？",
)
CUS_MEETING_OK = ("可以，叫上你们技术一起", "行，{when}见", "好，会议我拉上IT的同事")
COLLEAGUE_TECH = (
    "{c}好，我是{co}技术部的{me}，接口支持Modbus TCP和OPC UA，现场勘查我周{day}可以过去",
    "部署方案我整理好了，服务器配置清单发群里了",
    "测试报告已上传，数据对接没问题",
)
CUS_TECH = ("你们的接口文档发一下", "我们机房在二楼，去之前跟我说", "测试数据什么时候能出来？")
CUS_WON = ("老板同意了，合同今天盖章", "好的，按v{ver}的报价签，下周付款", "定了，就用你们的")
CUS_WON_OFFDAY = ("定了，就用你们的", "老板同意了，上班后走合同")
CUS_LOST = ("我们决定先不上了，明年再说", "不好意思，领导定了别家", "预算被砍了，这个项目暂停")
REP_THANKS = ("感谢{c}信任！实施经理明天联系您", "明白，感谢{c}，有需要随时找我", "好的{c}，后面有机会再合作")
REP_RECALL_WRONG = ("{c}，单价按{amt}万算", "周{day}上午到", "报价单v{ver}")
CUS_ON_CALL_BACK = ("刚才打你电话没人接", "方便回个电话吗？有点急", "在吗？电话打不通")
REP_CALL_BACK = ("{c}不好意思刚在开会，马上给您回电话", "刚看到未接，这就回您")
LATE_TEXT = "附件:{p}型号参数.pdf"  # the seed's fault case ("附件:XX型号参数.pdf"): the sheet sent as a chat line
DOC_TITLES = ("{s}{pn}方案.pdf", "{s}项目建议书.pdf", "{pn}ROI测算.pdf")
MEETING_TITLES = ("{s}·{pn}方案交流会", "{s}现场勘查", "{s}项目周会", "{s}·{pn}线上演示")
WEEKDAYS = ("一", "二", "三", "四", "五")
# weekends and public holidays: short WeChat lines instead of calls, quotes and meetings (no one meets on 初三)
REP_OFFDAY = {
    "春节": ("{c}新春快乐！给您和家人拜个年，节后我再把方案细化一下发您", "{c}过年好！祝您新的一年生意兴隆，节后约您聊"),
    "假期": ("{c}节日快乐，不打扰您休息，节后我再跟您对接", "{c}假期愉快！方案我节后第一天发您"),
    "周末": ("{c}周末好，不打扰您休息，周一我把资料整理好发您", "{c}，周末打扰了，您方便时看下我上次发的方案",
           "{c}，下周{day}我过去拜访一下？您看哪个时间方便"),
}
CUS_OFFDAY = {
    "春节": ("新年好！同乐同乐", "过年好，节后再说", "谢谢，也祝你新年快乐"),
    "假期": ("好的，节后联系", "节日快乐", "收到"),
    "周末": ("好的，周一说", "收到，回头看", "嗯，周{day}上午可以"),
}
