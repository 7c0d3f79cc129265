"""The words of the residents' pages, in Chinese (the default) and English.

``text(lang, key, **values)`` looks a phrase up and fills its ``{placeholders}``;
``label(lang, name)`` names a fund, category or catalogue value (the command line's
``api.cli_labels.LABELS``, plus the statement lines' own names); ``money(fen)`` writes
integer fen as ``¥1,234.56`` with integer arithmetic only. An unknown key is a bug and
raises ``KeyError`` (tests render every page in both languages).
"""

from __future__ import annotations

from api.cli_labels import LABELS
from ledger.core.money import yuan

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# key -> (zh, en)
PHRASES: dict[str, tuple[str, str]] = {
    "site": ("玻璃口袋", "Glass Pocket"),
    "tagline": ("小区资金公开，人人可核验", "A community's money, open and verifiable"),
    "switch_to": ("English", "中文"),
    "switch_label": ("切换到英文", "Switch to Chinese"),
    "communities": ("小区列表", "Communities"),
    "communities_lead": (
        "选择您的小区，查看资金、方案、报表与异议。",
        "Choose your community to see its funds, proposals, statements and objections.",
    ),
    "no_communities": ("本服务器上还没有小区。", "No community on this server yet."),
    "entries_in_log": ("日志共 {n} 条记录", "{n} entries in the log"),
    "open_dashboard": ("查看资金公开", "Open the dashboard"),
    "nav_main": ("主导航", "Main navigation"),
    "nav_dashboard": ("概览", "Overview"),
    "nav_proposals": ("方案与表决", "Proposals and votes"),
    "nav_statements": ("季度报表", "Statements"),
    "nav_objections": ("居民评议", "Objections"),
    "as_of": (
        "日志共 {size} 条记录 · 最新报表 {period}",
        "{size} entries in the log · latest statement {period}",
    ),
    "as_of_none": (
        "日志共 {size} 条记录 · 尚无季度报表",
        "{size} entries in the log · no statement yet",
    ),
    # dashboard
    "funds_title": ("四个资金账户的余额", "The four funds' balances"),
    "this_period": (
        "{period} 收入 {inflow} · 支出 {outflow}",
        "{period}: in {inflow} · out {outflow}",
    ),
    "balance_trend": ("{fund}季度末余额", "{fund}: balance at each quarter's end"),
    "opening": ("期初", "start"),
    "so_far": ("本期至今", "so far"),
    "trust_title": ("这些数字可信吗？", "Can you trust these figures?"),
    "latest_statement": ("最新季度报表", "Latest quarterly statement"),
    "signed_by_treasurer": ("出纳已签署", "signed by the treasurer"),
    "approved_by_committee": (
        "业委会已批准 {count}/{quorum}",
        "approved by the committee {count}/{quorum}",
    ),
    "awaiting_committee": (
        "待业委会批准 {count}/{quorum}",
        "awaiting the committee {count}/{quorum}",
    ),
    "witnessed": ("{count} 位见证人已共同签署日志", "{count} witnesses cosigned the log"),
    "server_check_ok": ("本站预检：报表数据包核验通过", "This server's check: the bundle verifies"),
    "server_check_fail": (
        "本站预检：报表数据包核验未通过",
        "This server's check: the bundle FAILS",
    ),
    "server_check_none": ("报表尚未进入已见证的检查点", "Not yet in a witnessed checkpoint"),
    "verify_yourself": ("在您的浏览器中亲自核验", "Verify it yourself in your browser"),
    "verify_hint": (
        "核验在您自己的设备上进行：检查签名、见证人、日志包含证明和报表算术，不必相信本网站。",
        "The check runs on your own device: signatures, witnesses, inclusion in the log and the "
        "statement's arithmetic. You need not trust this website.",
    ),
    "checkpoint": ("日志检查点", "Log checkpoint"),
    "checkpoint_line": ("大小 {size} · 根哈希 {root}…", "size {size} · root {root}…"),
    "collection": ("{period} 物业费收缴率", "{period} property fee collection rate"),
    "collection_detail": ("实收 {received} / 应收 {due}", "received {received} of {due} due"),
    "objections_open": ("{n} 条异议待答复", "Awaiting an answer: {n}"),
    "objections_none_open": ("没有待答复的异议", "No objection awaiting an answer"),
    "charts_title": ("每季度的收入与支出", "Income and spending per quarter"),
    "income_chart": ("收入（按类别）", "Income by category"),
    "spending_chart": ("支出（按类别）", "Spending by category"),
    "transfers_excluded": ("不含基金之间的转账。", "Transfers between funds are not counted."),
    "deposits_apart": (
        "维修资金缴存是业主存入专项维修资金的钱，金额较大，未画入上图：",
        "Maintenance deposits are the owners' own savings and much larger; not drawn above:",
    ),
    "balances_table": ("各季度末余额", "Balances at each quarter's end"),
    "show_data": ("查看数据表", "Show the data table"),
    "other": ("其他", "other"),
    "total": ("合计", "Total"),
    "proposals_title": ("方案进度", "Proposals and their progress"),
    "all_proposals": ("全部方案", "All proposals"),
    "my_unit": ("查询我家的账户", "Look up my home's account"),
    "unit_code": ("房号", "Unit"),
    "unit_placeholder": ("如 1-1-102", "e.g. 1-1-102"),
    "look_up": ("查询", "Look up"),
    "my_unit_hint": (
        "输入房号，查看物业费缴纳、欠缴与维修资金分户账。每笔记录都附有可核验的收据。",
        "Enter your unit to see its fees, arrears and maintenance sub-account, each with a "
        "verifiable receipt.",
    ),
    "glance": ("一眼看懂", "At a glance"),
    "chip_verified": ("{period}报表已核验", "{period} statement verified"),
    "chip_failed": ("{period}报表核验未通过", "{period} statement FAILED its check"),
    "chip_pending": ("{period}报表待见证", "{period} statement awaiting witnesses"),
    "chip_collection": ("物业费收缴率 {percent}", "fee collection {percent}"),
    # funds
    "fund_balance": ("当前余额", "Balance now"),
    "fund_flows": ("每季度收支（按类别）", "Flows by category per quarter"),
    "recent_entries": ("最近的记录", "Recent entries"),
    "date": ("日期", "Date"),
    "entry_no": ("记录号", "Entry"),
    "category": ("类别", "Category"),
    "detail": ("明细", "Detail"),
    "inflow": ("收入", "In"),
    "outflow": ("支出", "Out"),
    "amount": ("金额", "Amount"),
    "receipt": ("收据", "Receipt"),
    "reversal": ("（冲正）", " (reversal)"),
    "no_entries": ("暂无记录", "No entries yet"),
    # proposals
    "proposal": ("方案", "Proposal"),
    "budget": ("预算", "Budget"),
    "spent": ("已支出", "Spent"),
    "remaining": ("余额", "Remaining"),
    "spent_of_budget": ("已支出/预算", "spent of budget"),
    "stage": ("进度", "Stage"),
    "decision": ("决定方式", "Decided by"),
    "matter": ("事项", "Matter"),
    "fund": ("资金来源", "Fund"),
    "scope": ("范围", "Scope"),
    "whole_estate": ("全体业主（{n} 户）", "the whole estate ({n} units)"),
    "some_units": ("{n} 户（{buildings} 号楼）", "{n} units (building {buildings})"),
    "publicity_ends": ("公示期至", "Publicity until"),
    "approved": ("已批准", "Approved"),
    "not_approved": ("未批准", "Not approved"),
    "pending": ("待决定", "Pending"),
    "vote_passed": ("表决通过", "Vote passed"),
    "vote_failed": ("表决未通过", "Vote failed"),
    "vote_open": ("表决中", "Voting"),
    "emergency_flag": ("应急维修（事后公示）", "Emergency repair (disclosed after)"),
    "emergency_cap": ("应急上限", "Emergency cap"),
    "approvals": ("业委会批准", "Committee approvals"),
    "approvals_count": ("{count}/{quorum} 位委员批准", "{count} of {quorum} members approved"),
    "approved_by": ("批准人", "Approved by"),
    "tally": ("表决结果（《民法典》第二百七十八条）", "The vote (Civil Code art. 278)"),
    "participation": ("参与表决", "Participation"),
    "tally_line": (
        "参与 {p}，同意 {a}（按专有面积）",
        "participation {p}, approval {a} (by floor area)",
    ),
    "approval_share": ("同意", "Approval"),
    "by_area": ("按专有面积", "by floor area"),
    "by_owners": ("按业主人数", "by owners"),
    "needs_two_thirds": ("须达三分之二以上", "needs two thirds or more"),
    "needs_three_quarters": (
        "须达四分之三以上（特别事项）",
        "needs three quarters or more (special matter)",
    ),
    "needs_half": ("须过半数", "needs more than half"),
    "met": ("达到", "met"),
    "not_met": ("未达到", "not met"),
    "votes_detail": (
        "参与 {voted_owners}/{total_owners} 人，同意 {yes_owners} 人，反对 {no_owners} 人",
        "{voted_owners} of {total_owners} owners voted: {yes_owners} yes, {no_owners} no",
    ),
    "no_vote": ("本方案无需业主表决。", "This proposal needs no owners' vote."),
    "stages": ("进度公开", "Progress"),
    "review": ("问效评价", "Outcome review"),
    "rating": ("评分 {rating}/5", "rating {rating}/5"),
    "history": ("记录", "History"),
    "description": ("说明", "Description"),
    # statements
    "statements_lead": (
        "每季度一份报表，由出纳签署、业委会批准、见证人共同签署日志。报表一经发布永不更改。",
        "One statement a quarter, signed by the treasurer, approved by the committee, in a log "
        "the witnesses cosign. A published statement never changes.",
    ),
    "period": ("期间", "Period"),
    "entries_range": ("日志第 {start}–{end} 条", "log entries {start}–{end}"),
    "status": ("状态", "Status"),
    "bundle_json": ("下载报表数据包（JSON）", "Download the statement bundle (JSON)"),
    "opening_balance": ("期初余额", "Opening"),
    "closing_balance": ("期末余额", "Closing"),
    "statement_funds": ("各基金收支", "Funds"),
    "fund_col": ("资金账户", "Fund"),
    "revenue_costs": ("经营成本", "Costs of earning it"),
    "decided_by_owners": (
        "本方案由业主表决决定，无需业委会批准。",
        "Decided by the owners' vote; no committee approval needed.",
    ),
    "statement_trust": ("信托账户本期结余", "Trust account: the period's surplus"),
    "income": ("收入", "Income"),
    "costs": ("服务成本", "Service costs"),
    "remuneration": ("物业酬金", "Remuneration"),
    "surplus": ("本期结余", "Surplus of the period"),
    "refunded": ("结余退还", "Refunded"),
    "statement_common": ("公共收益", "Common revenue"),
    "gross": ("收入合计", "Gross"),
    "net": ("净收益", "Net"),
    "transferred_to": ("转入 {fund}", "to {fund}"),
    "statement_donations": ("捐赠", "Donations"),
    "unrestricted": ("不限用途", "unrestricted"),
    "statement_maintenance": ("维修资金分户账", "Maintenance sub-accounts"),
    "subaccounts_total": ("分户账合计", "Sum of the sub-accounts"),
    "top_up_units": ("需续筹的房屋（低于首期 {ratio}%）", "Units due a top-up (below {ratio}%)"),
    "units_owing": ("分户账为负的房屋", "Units owing the fund"),
    "units_count": ("{n} 户", "{n} units"),
    "statement_bank": ("银行对账", "Bank reconciliation"),
    "bank_balance": ("银行余额", "Bank says"),
    "books_balance": ("账面余额", "Books say"),
    "difference": ("差额", "Difference"),
    "statement_votes": ("本期结束的表决", "Votes closed in the period"),
    "statement_proposals": ("本期涉及的方案", "Proposals in the period"),
    "statement_objections": ("发布时未答复的异议", "Objections open at publication"),
    "none": ("无", "none"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # units
    "unit_title": ("房号 {unit}", "Unit {unit}"),
    "unit_facts": ("{building} 号楼 · 建筑面积 {area} m²", "building {building} · {area} m²"),
    "arrears": ("欠缴物业费", "Property fees owed"),
    "paid_up": ("物业费已缴清", "Property fees paid up"),
    "prepaid": ("预缴 {amount}", "paid ahead {amount}"),
    "dues_until": ("截至 {month}", "up to {month}"),
    "maintenance_balance": ("维修资金分户账余额", "Maintenance sub-account"),
    "needs_top_up": ("低于首期缴存的 30%，需续筹", "Below 30% of the first deposit: top-up due"),
    "fees_by_month": ("物业费（按月）", "Property fees by month"),
    "month": ("月份", "Month"),
    "due": ("应缴", "Due"),
    "received": ("实缴", "Paid"),
    "owed": ("欠缴", "Owed"),
    "payments": ("缴费记录", "Payments"),
    "maintenance_lines": ("维修资金分户账明细", "Maintenance sub-account lines"),
    "refund_lines": ("结余退还", "Surplus refunds"),
    "kind": ("类型", "Kind"),
    "receipt_hint": (
        "每笔记录的收据是一份可独立核验的证明：它证明该记录已写入公开日志，且无法被悄悄修改。",
        "Each receipt is a proof you can check on your own: the entry is in the public log and "
        "cannot be changed quietly.",
    ),
    "view_receipt": ("收据", "receipt"),
    "receipt_for": ("记录 #{index} 的收据", "receipt for entry #{index}"),
    # objections
    "objections_lead": (
        "业主可对任何记录或报表提出异议；答复也写入日志。未答复的异议会显示在每份公开材料上。",
        "Any owner may object to an entry or a statement; the answer is logged too. Open "
        "objections stand on every disclosure until answered.",
    ),
    "objection": ("异议", "Objection"),
    "target": ("针对的记录", "About entry"),
    "answer": ("答复", "Answer"),
    "awaiting_answer": ("待答复", "Awaiting an answer"),
    "no_objections": ("还没有人提出异议。", "Nobody has objected yet."),
    # errors
    "not_found_title": ("找不到这个页面", "Page not found"),
    "not_found_text": (
        "您要找的小区、房号或方案不存在，或者链接有误。",
        "The community, unit or proposal you asked for does not exist, or the link is wrong.",
    ),
    "back_home": ("返回小区列表", "Back to the communities"),
    "footer": (
        "所有记录都写入只增不改的公开日志，由独立见证人共同签署。金额以分为单位精确记账。",
        "Every entry is in an append-only public log cosigned by independent witnesses. Amounts "
        "are kept exactly, in fen.",
    ),
}

EXTRA_LABELS: dict[str, tuple[str, str]] = {
    # statement lines (ledger.core.statement_rules.category)
    "fees": ("物业费", "property fees"),
    "deposits_initial": ("首期维修资金", "initial deposits"),
    "deposits_top_up": ("续筹维修资金", "top-up deposits"),
    "remuneration": ("物业酬金", "trustee remuneration"),
    "emergency_repairs": ("应急维修", "emergency repairs"),
    "reversals": ("冲正", "reversals"),
    "transfer_to_maintenance": ("转入专项维修资金", "to the maintenance fund"),
    "transfer_to_property": ("转入物业费账户", "to the property fund"),
    "transfer_to_community": ("转入社区基金", "to the community fund"),
    "transfer_to_public_revenue": ("转入公共收益", "to common revenue"),
    "transfer_from_public_revenue": ("来自公共收益", "from common revenue"),
    "transfer_from_property": ("来自物业费账户", "from the property fund"),
    "transfer_from_community": ("来自社区基金", "from the community fund"),
    "transfer_from_maintenance": ("来自专项维修资金", "from the maintenance fund"),
    # proposals
    "maintenance_use": ("使用维修资金", "using the maintenance fund"),
    "particular_costs": ("部分业主分摊的费用", "costs borne by some owners"),
    "maintenance_raise": ("筹集维修资金", "raising the maintenance fund"),
    "alteration": ("改建、重建", "alteration or rebuilding"),
    "common_use_change": ("改变共有部分用途", "changing the use of common parts"),
    "property_company": ("选聘物业服务企业", "hiring the property company"),
    "charter": ("管理规约", "the charter"),
    "committee_election": ("选举业委会", "committee election"),
    "spending": ("支出", "spending"),
    "committee": ("业委会批准", "committee approval"),
    "owners": ("业主表决", "owners' vote"),
    "contracted": ("已签约", "contracted"),
    "started": ("已开工", "started"),
    "completed": ("已完工", "completed"),
    "accepted": ("已验收", "accepted"),
    "explained": ("已解释", "explained"),
    "corrected": ("已更正", "corrected"),
    "deposit": ("缴存", "deposit"),
    "draw": ("支取", "draw"),
    "property_fee": ("物业费", "property fee"),
    # entry types shown in a proposal's history
    "proposal.submitted": ("提交方案", "proposal submitted"),
    "approval.signed": ("委员批准", "committee approval"),
    "emergency.declared": ("主管部门确认应急", "emergency confirmed by the authority"),
    "vote.closed": ("表决结束", "vote closed"),
    "project.progressed": ("进度", "progress"),
    "project.reviewed": ("问效评价", "outcome review"),
    "expense.paid": ("支出", "expense"),
    "maintenance.drawn": ("维修资金支取", "maintenance draw"),
    "transfer.made": ("基金转账", "transfer"),
    "surplus.refunded": ("结余退还", "surplus refund"),
    "charter.amended": ("修订管理规约", "charter amended"),
    "statement.published": ("季度报表", "quarterly statement"),
    "contribution.received": ("缴费", "payment"),
    "revenue.received": ("公共收益收入", "common revenue"),
    "donation.received": ("捐赠", "donation"),
    "interest.credited": ("利息", "interest"),
    "trustee.remunerated": ("物业酬金", "trustee remuneration"),
    "entry.reversed": ("冲正", "reversal"),
    "bank.balance_asserted": ("银行对账", "bank balance"),
    "objection.raised": ("异议", "objection"),
    "objection.answered": ("答复", "answer"),
}

FUND_NOTES: dict[str, tuple[str, str]] = {
    "property": (
        "业主缴纳的物业费，物业公司按信托合同使用，结余归全体业主",
        "Property fees, spent by the company under the trust contract; the surplus is the owners'",
    ),
    "maintenance": (
        "房屋共用部位维修专用，按户记分户账，动用须业主表决",
        "For repairs of common parts, kept per unit; using it needs the owners' vote",
    ),
    "public_revenue": (
        "停车、广告、场地等共有部分收入，归全体业主",
        "Parking, advertising, venue rental: it belongs to all the owners",
    ),
    "community": (
        "捐赠、赞助与政府专项经费，按指定用途使用",
        "Donations, sponsorships and grants, spent on their purpose",
    ),
}


def text(lang: str, key: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` with its placeholders filled."""
    phrase = PHRASES[key][0 if lang == "zh" else 1]
    return phrase.format(**values) if values else phrase


def label(lang: str, name: str | None) -> str:
    """The word for a fund, category or catalogue value; unknown names print as they are."""
    if name is None:
        return "—"
    pair = LABELS.get(name) or EXTRA_LABELS.get(name)
    return name if pair is None else pair[0 if lang == "zh" else 1]


def title_label(lang: str, name: str | None) -> str:
    """``label`` with its first letter upper case (English labels are lower case)."""
    words = label(lang, name)
    return words[:1].upper() + words[1:]


def fund_note(lang: str, fund: str) -> str:
    pair = FUND_NOTES.get(fund)
    return "" if pair is None else pair[0 if lang == "zh" else 1]


def money(fen: int | None) -> str:
    """Integer fen as ``¥1,234.56`` (``-¥…`` when negative); ``None`` is a dash."""
    if fen is None:
        return "—"
    return f"-¥{yuan(-fen)}" if fen < 0 else f"¥{yuan(fen)}"


def period_name(lang: str, period: str | None) -> str:
    """``2025Q4`` → ``2025年第4季度`` / ``2025 Q4``; ``None`` is a dash."""
    if period is None:
        return "—"
    if len(period) == 6 and period[4] == "Q":
        return f"{period[:4]}年第{period[5]}季度" if lang == "zh" else f"{period[:4]} Q{period[5]}"
    return period


def area_m2(area_cm2: int) -> str:
    """Square centimetres as square metres with two decimals (integer arithmetic)."""
    whole, rest = divmod(area_cm2, 10_000)
    return f"{whole:,}.{rest // 100:02d}"
