"""The word tables /备注 reads a deal note with (handlers/forecast/notes.py does the reading).

Kept apart from the parser so each stays readable: here is *what* a rep writes ("CFO下周回国", "定金已付", "项目取消了",
"下周三开标"), there is *how* a clause becomes a change. Every table is a regex alternation; a rule whose verb can be
negated in the middle of the phrase ("定金还没到账", "项目没取消") names that verb `(?P<v>…)`, so the negation is
looked for right before the verb rather than before the noun.
"""

from __future__ import annotations

import re

ROLES = (  # (pattern, role key); the first that matches names the person of the clause
    (r"CFO|财务总监|财务VP|财务负责人", "cfo"),
    (r"终审人|终审|老板|总经理|董事长|CEO|一把手|大老板", "approver"),
    (r"采购(?:经理|部|负责人)?", "procurement"),
    (r"法务", "legal"),
    (r"CTO|技术负责人|IT负责人|信息中心", "tech"),
)
APPROVERS = {"cfo", "approver"}

ACTIONS = (  # (pattern, action key)
    (r"回国|回来|出差回|有空|可以见|能见|约到|约好|答应见", "available"),
    (r"见了|见过|见面了|见到了|拜访了|会面了|已见|当面聊了|(?<=[没未])见(?:面|到)?", "met"),
    (r"见不到|见不了|没空|没时间|回不来", "unavailable"),
    (r"离职|调岗|换人|被调走", "left"),
    (r"盖章|公章|签字|签了", "sealed"),
    (r"预算(?:已经|已|也)?(?:批了|批下来|确定|明确|到位|下来了|批复了|审批通过|通过了|申请下来)", "budget"),
    (r"竞品|竞争对手|友商", "competitor"),
    (r"(?:POC|测试|验证|试点)(?:通过|成功|完成)", "tech_pass"),
    (r"(?:POC|测试|验证|试点)(?:失败|没通过|未通过)", "tech_fail"),
    (r"法务(?:审核)?(?:通过|没问题)", "legal_pass"),
    (r"法务(?:审核)?(?:驳回|不通过|没通过|未通过|有意见)", "legal_fail"),
    (r"条款(?:有)?(?:争议|分歧|异议)", "dispute"),
)
GOOD = r"好转|顺利|积极|认可|满意|很感兴趣|松口|推进了"
# a negation right before a phrase ("还没见过终审人", "CFO不能见", "不太满意") turns it around; a few helper words
# may sit between the negation and the phrase
NEG_BEFORE = re.compile(r"(?:没有?|未|不|别|无|并非)(?:太|很|怎么|能|会|再|曾|大|够|是|一定)?$")
NEG_AFTER = re.compile(r"^(?:没有?|未|不|无)")  # "竞争对手没什么动作": for nouns the negation follows
BAD = r"受阻|卡住|推迟|延期|暂停|冻结|搁置|不满意|犹豫|砍预算|预算削减"
# Ordinary sales sentences that carry a number or a date the forecast uses directly (issue 13, defect 10):
# "预算从100万降到80万" / "预算确认150万" → the amount; "下周三签合同" → the expected close; "下周二开会" → a next
# meeting is agreed (one of the four conditions of a valid intent letter).
_MONEY = r"(\d+(?:\.\d+)?)\s*(万|w|W|元|块)?"
BUDGET_AMOUNT = re.compile(
    r"预算[^，,。；;\d]{0,6}?(?:从\s*\d+(?:\.\d+)?\s*(?:万|w|W|元)?\s*)?"
    r"(?:降到|降至|降为|减到|减至|砍到|调到|调整为|调整到|改为|改成|变成|变为|增加到|增至|提高到|提到|涨到|加到|"
    r"确认|确认为|确定|确定为|批了|批下来|定了|定为|是|为|有|给到|)\s*" + _MONEY)
SIGNING = r"签合同|签约|签单|签协议|正式签|(?:[日号周月底末]|[一二三四五六日天])(?:就|能|可以|会|再)?签(?![字收到])"
MEETING = r"开会|见面|碰面|碰头|拜访|面谈|会议|沟通会|评审会|汇报|演示|讲方案|约了"
# "下个月再说", "国庆后再定", "推到月底": the customer put the decision off until then — nothing closes before it
DEFER_AFTER = r"再说|再定|再谈|再议|再决定|再考虑|再看看|再研究|再聊"
DEFER_TO = r"(?:推迟|延期|延迟|推|延|拖|改|往后推|往后延)(?:到|至)"
NOUN_ACTIONS = {"competitor"}  # "竞争对手没动作": the negation comes after the noun
PLANNABLE = {"sealed", "budget"}  # "下周盖章" is a plan, not a fact: echoed, nothing changed yet
# customer labels a note can report (the classifier's objections), most telling first; price_inquiry is no worry
WORRIES = ("hesitation", "competitor", "price_objection", "delivery_concern", "after_sales", "quality_trust")

# ------------------------------------------------------------------ money on the table: deposits / prepayments
# "客户已付定金", "预付款30%到账了", "首付款已打", "定金5万收到", "收到了5万定金", "客户预付了30%": money moved, the
# strongest sign a deal is on its way. Only a payment verb makes it one: "定金比例还没谈" names a deposit, pays none.
# After the deposit, a bare verb ("付", "打") counts only right after a negation ("定金还没付"): "定金付多少" pays none.
DEPOSIT = r"定金|订金|预付款|首付款|首期款|首款|头款|预付"
_PAY = r"支付|付|交|打|汇|转|缴|收"
_SUM = r"\s*(?:\d+(?:\.\d+)?\s*(?:万|w|W|元|块|%|％|成)?|百分之[\d一二三四五六七八九十]+|[一二三四五六七八九十两]+\s*(?:万|成))"
_PAID = (rf"到账|收到|到位|进账|入账|到了|(?:{_PAY})(?:过来|了|过|清|完|到)|已经?(?:{_PAY}|到)"
         rf"|(?:(?<=[没未])|(?<=没有))(?:{_PAY}|到)")
DEPOSIT_PAID = (
    # the deposit first: "预付款30%到账了", "首付款已打", "定金还没到账"
    rf"(?:{DEPOSIT})(?:{_SUM})?\s*(?:也|都|刚|刚刚|今天|昨天|前天|上周|还|尚)*(?:没有?|未)?(?P<v>{_PAID})",
    # the payment first: "客户已付定金", "打了首付款", "收到了5万定金", "还没付定金"
    # (a bare "付定金" is read too: planned when a time ahead or a wish comes first, "下周付定金", "同意付定金")
    rf"(?P<v>已经?(?:{_PAY}|收到)|(?:{_PAY}|收到)(?:了|过|清|完)?)(?:{_SUM})?(?:的)?(?:{DEPOSIT})(?![的比])",
    # the deposit is the verb: "客户预付了30%", "已预付"
    rf"(?P<v>已经?预付|预付了|(?<=[没未])预付)(?!款)(?:{_SUM})?",
)
# a payment that is wanted, promised or awaited, not made: "等定金到账", "客户同意付定金", "定金到账后再签"
PAY_INTENT = re.compile(r"(?:要|将|准备|打算|同意|愿意|答应|计划|承诺|等|待|催|希望|预计|争取|需要|(?<![开散例约])会)"
                        r"[^，,。；;]{0,6}$")
PAY_AFTER = re.compile(r"^(?:了)?(?:后|以后|之后|再|才)")
PAY_DONE = re.compile(r"已|了|过|完|清")  # "已付", "到账了": done, whatever the customer promised earlier

# ------------------------------------------------------------------ the deal is off: cancelled or lost
# A note can be wrong, so none of these closes a deal: the deal is marked stalled and the rep is told how to close
# it for real. "取消了周三的会议" cancels a meeting, not the deal: the noun must be the project, order or purchase.
_DEAL = r"项目|订单|单子|这单|采购|需求|合作|招标|合同"
_RIVAL = r"别家|别人家?|别的(?:厂商|厂家|公司|供应商)|其他(?:家|厂商|厂家|公司|供应商)|竞品|友商|竞争对手|对手"
LOSS = (  # (pattern, lost to a competitor?)
    (rf"(?:{_DEAL})(?:也|已经?|被|都|还|突然|临时)*(?:没有?|未|不会)?(?P<v>取消|终止|叫停|砍掉|砍了|撤销|作废|黄了|丢了|输了)"
     r"(?![一二三四五六七八九十两\d半些点])", False),  # "需求砍了一半" is a smaller deal
    (r"(?P<v>取消|终止|叫停|砍掉)了?(?:这个|该|整个)?(?:项目|订单|采购|合作|招标)(?![的会])", False),
    (r"(?<![老小])(?P<v>黄了|(?<=[要快])黄)(?!解)", False),
    # the deposit goes back: "定金退了", "客户要求退定金"
    (rf"(?:{DEPOSIT})(?:已经?|被|都|还|没有?|未)?(?P<v>退)", False),
    (rf"(?P<v>退)(?:了|回|还)?(?:{DEPOSIT})", False),
    (r"(?P<v>不做了|不买了|不采购了|不上了|不要了|不搞了|放弃了?(?:采购|项目|合作|购买|这个项目)|放弃了$)", False),
    (rf"(?P<v>(?:选|选择|定|签|买|采购|找)了?)(?:{_RIVAL})", True),  # "选了别家的方案" too
    (rf"(?P<v>用了)(?:{_RIVAL})(?!的)", True),  # "用了别家的产品" may be what the customer runs today
    (r"被[^，,。；;]{1,8}?(?P<v>拿下|抢走|抢了|拿走|截胡|签走|夺走)", True),
    (r"(?P<v>丢单|输单|丢标|丢了(?:这|那)?个?(?:单子?|项目))", False),
    # the tender went elsewhere or nowhere: "没中标", "流标了", "废标", "别家中标了"
    (r"(?<![还])(?P<v>(?:没有?|未|没能)中标)(?!结果)", False),
    (r"(?P<v>落标|流标|废标|标被?废了)", False),
    (rf"(?:{_RIVAL})(?P<v>中标)", True),
)
# the deal is on again after a note called it off: "项目恢复了", "客户又回来谈了", "重新启动了"
REVIVED = (  # the deal itself must be what resumes: "客户数据恢复了" is a fixed fault, not a deal back on
    rf"(?:{_DEAL})(?:又|重新|已经?|也|还)*(?:没有?|未)?(?P<v>恢复|重启|重新启动|重新开始|重新谈)",
    r"(?P<v>又回来(?:谈|了)|又(?:想|要)做|又谈起来|又开始谈|又(?:联系|找)(?:我们|我)了?)",
)
# a part of the deal dropped ("二期不做了", "这个功能不要了") is a smaller deal, not a lost one
PARTIAL = r"[一二三四五六七八九两\d]期|部分|模块|功能|这块|那块|这项|配件|选配"
# what has not happened (yet): "可能选别家", "怕被竞品拿下", "项目要黄了", "有丢单风险" — a risk, echoed as one
HEDGE_BEFORE = re.compile(r"可能|也许|或许|担心|怕|恐怕|万一|如果|要是|假如|估计|快要?|倾向|随时|(?<![主需重只])要(?!求)"
                          r"|(?<![开散例约])会(?![议上后])")
HEDGE_AFTER = re.compile(r"^(?:的)?(?:风险|可能|危险|苗头)")
NEAR_MISS = re.compile(r"(?:差点|险些|差一点|几乎)(?:就)?$")  # "差点丢单": it was not lost
LOOKING_BACK = re.compile(r"以前|之前|一直|去年|上次")  # "之前用了别家": the customer's history, not this deal

# a question is no news: "项目取消了吗", "定金到账了没有", "是不是中标了"
QUESTION = re.compile(r"[吗么嘛]$|没有?$|是不是|有没有|是否")

# ------------------------------------------------------------------ tenders
# "下周三开标", "6月10日投标": nothing closes before the bids are opened, so the expected close is no earlier
TENDER = r"开标|投标|招标|评标|唱标|定标|交标|递交标书|标书[^，,。；;]{0,8}?(?:截止|递交|提交)|截标"
# "中标了", "已中标", "收到中标通知书": a won tender binds both sides (招标投标法 §45) — still not a signed deal
TENDER_WON = (r"(?P<v>中标)(?:了|啦)", r"已经?(?P<v>中标)", r"(?:成功|顺利|终于|我们|我司|我方|咱们)(?P<v>中标)",
              r"(?:收到|拿到)了?(?P<v>中标通知)", r"(?P<v>中标通知书?)(?:已经?)?(?:收到了?|到了?|下来了?|发了?|(?<=已))",
              r"(?P<v>中标公示)")
TENDER_PENDING = r"中标候选人|预中标"  # ranked first, not yet awarded: echoed as not settled
# who won: "中标了" has no subject, "我们中标了" / "项目中标了" / "今天终于中标了" are ours; "华为中标了" names someone
# else (a rival the table above does not know) — echoed as unclear, never read as our win
OUR_WIN_BEFORE = re.compile(r"(?:^|我们?|我司|我方|咱们?|(?:我们?|咱们?)(?:公司|这边|团队)|项目|这单|这个标|本项目|标段|说|通知|"
                            r"消息|告诉我们?|今天|昨天|刚才|刚刚|上午|下午|晚上|终于|已经?|也|都|成功|顺利|最后|最终|还是|"
                            r"总算|果然|真的|，|,)\s*$")
# a meeting called off is not an agreed next meeting: "取消了周三的会议"
MEETING_OFF = r"取消|推掉|不开了|撤了"
