"""Interface texts in Simplified Chinese (default) and English; ``?lang=en`` switches, a cookie remembers.

Every string a page shows comes from here: :func:`texts` gives a page its ``t`` (``t.sign_in``),
:func:`label` names a code (a role, level, status, purpose, alarm rule …) in the page's language.
Texts with ``{name}`` placeholders are filled in the template with ``.format(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from lianfang.policy.roles import Role
from lianfang.standard.levels import Level

LANGS = ("zh", "en")
DEFAULT = "zh"

_TEXTS: dict[str, dict[str, str]] = {
    # -- frame -------------------------------------------------------------------------
    "app": {"zh": "联防 · 跨市治安数据共享平台", "en": "Lianfang · cross-city public-security data sharing"},
    "app_short": {"zh": "联防", "en": "Lianfang"},
    "app_sub": {"zh": "跨市治安数据共享平台", "en": "Cross-city public-security data sharing"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "code": {"zh": "动态口令（6 位）", "en": "One-time code (6 digits)"},
    "welcome": {"zh": "欢迎", "en": "Welcome"},
    "welcome_name": {"zh": "欢迎，{name}", "en": "Welcome, {name}"},
    "unit": {"zh": "单位", "en": "Unit"},
    "roles": {"zh": "角色", "en": "Roles"},
    "notifications": {"zh": "未读通知", "en": "Unread notifications"},
    "queue": {"zh": "待我审批", "en": "Awaiting my decision"},
    "idle": {"zh": "空闲超时（分钟）", "en": "Idle timeout (minutes)"},
    "must_change": {"zh": "请尽快修改初始密码。", "en": "Please change your initial password soon."},
    "bad_form": {"zh": "表单已过期，请重试。", "en": "The form expired; please try again."},
    "switch": {"zh": "English", "en": "中文"},
    "switch_title": {"zh": "切换语言", "en": "Switch language"},
    "main_nav": {"zh": "主导航", "en": "Main navigation"},
    "times_note": {"zh": "时间均为北京时间（Asia/Shanghai）。", "en": "Times are China Standard Time (Asia/Shanghai)."},
    "classified_note": {"zh": "本系统数据仅限公务使用，所有操作均被记录。",
                        "en": "For official use only; every operation is recorded."},
    "nav_home": {"zh": "首页", "en": "Home"},
    "nav_search": {"zh": "一键查询", "en": "Search"},
    "nav_trajectories": {"zh": "轨迹", "en": "Trajectories"},
    "nav_watch": {"zh": "布控", "en": "Watch lists"},
    "nav_access": {"zh": "授权申请", "en": "Access requests"},
    "nav_approvals": {"zh": "审批", "en": "Approvals"},
    "nav_audit": {"zh": "审计", "en": "Audit"},
    "nav_notifications": {"zh": "通知", "en": "Notifications"},
    "unread_count": {"zh": "{n} 条未读通知", "en": "{n} unread notifications"},
    # -- errors ------------------------------------------------------------------------
    "error_title": {"zh": "无法完成", "en": "Could not complete"},
    "forbidden_title": {"zh": "无权访问", "en": "Not allowed"},
    "forbidden": {"zh": "你的角色无权查看或执行此操作。此次尝试已记入审计日志。",
                  "en": "Your role may not see or do this. The attempt has been recorded in the audit trail."},
    "not_found_title": {"zh": "未找到", "en": "Not found"},
    "csrf_refused": {"zh": "表单已过期或来源不明，请刷新页面后重试。",
                     "en": "The form expired or did not come from this site; reload the page and try again."},
    "back_home": {"zh": "返回首页", "en": "Back to home"},
    "err_invalid": {"zh": "填写有误", "en": "Please check the form"},
    "err_forbidden": {"zh": "不允许此操作", "en": "Not allowed"},
    "err_not_found": {"zh": "未找到", "en": "Not found"},
    "err_conflict": {"zh": "状态已变化，请刷新后再试", "en": "It changed meanwhile; reload and try again"},
    "err_audit": {"zh": "审计日志暂不可用，操作已拒绝。",
                  "en": "The audit trail is unavailable; the operation was refused."},
    "err_unstorable": {"zh": "请求中含有不能保存的字符（如 NUL），操作已拒绝。",
                       "en": "The request holds a character that cannot be stored (NUL, say); "
                             "the operation was refused."},
    "err_fields": {"zh": "以下内容不符合要求：", "en": "These entries are not valid:"},
    "err_nul_url": {"zh": "网址中含有 NUL 字符，请求已拒绝。",
                    "en": "The address holds a NUL character; the request was refused."},
    "err_unrecordable": {"zh": "请求中含有审计日志不能记录的内容（如身份证号、手机号），操作已拒绝。"
                               "请检查案件编号和用途说明。",
                         "en": "The request holds something the audit trail may not record (a citizen ID or mobile "
                               "number, say); the operation was refused. Check the case number and the purpose text."},
    "details": {"zh": "说明", "en": "Details"},
    # -- home --------------------------------------------------------------------------
    "my_pending": {"zh": "我的待审批申请", "en": "My pending requests"},
    "active_grants": {"zh": "有效授权", "en": "Active grants"},
    "open_alarms": {"zh": "未处置告警", "en": "Open alarms"},
    "open": {"zh": "查看", "en": "Open"},
    # -- access requests ---------------------------------------------------------------
    "access_title": {"zh": "我的授权申请", "en": "My access requests"},
    "request_access": {"zh": "申请授权", "en": "Request access"},
    "new_request_title": {"zh": "申请数据访问授权", "en": "Request access to data"},
    "new_request_help": {
        "zh": "申请将送交有权审批的审批人（跨市敏感数据：本市市级审批；绝密数据：省厅审批）。"
              "须填写用途和案件编号，授权到期自动失效。",
        "en": "The request goes to the approvers who may decide it (cross-city sensitive data: your city's approver; "
              "top secret: the province). Purpose and case number are required; the grant ends when it expires.",
    },
    "owner_city": {"zh": "数据所属城市（6 位行政区划代码）", "en": "Owning city (6-digit division code)"},
    "city": {"zh": "城市", "en": "City"},
    "level": {"zh": "密级", "en": "Level"},
    "scope": {"zh": "范围", "en": "Scope"},
    "scope_kind": {"zh": "范围类型", "en": "Scope kind"},
    "scope_keys": {"zh": "对象（每行一个，或以逗号分隔）", "en": "Items (one a line, or comma-separated)"},
    "scope_keys_help": {
        "zh": "记录：类别:编号（如 person:12）；人员：身份证号盲索引摘要；车辆：号牌；案件：案件编号。",
        "en": "Records: category:id (e.g. person:12); person: citizen-ID digest; vehicle: plate; case: case number.",
    },
    "purpose": {"zh": "用途", "en": "Purpose"},
    "purpose_text": {"zh": "用途说明", "en": "Purpose in your words"},
    "case_no": {"zh": "案件编号", "en": "Case number"},
    "hours": {"zh": "期限（小时）", "en": "Duration (hours)"},
    "submit_request": {"zh": "提交申请", "en": "Submit request"},
    "cancel": {"zh": "取消", "en": "Cancel"},
    "withdraw": {"zh": "撤回", "en": "Withdraw"},
    "status": {"zh": "状态", "en": "Status"},
    "submitted": {"zh": "提交时间", "en": "Submitted"},
    "decided": {"zh": "决定时间", "en": "Decided"},
    "actions": {"zh": "操作", "en": "Actions"},
    "my_grants": {"zh": "我的授权", "en": "My grants"},
    "grant": {"zh": "授权", "en": "Grant"},
    "starts": {"zh": "生效时间", "en": "Starts"},
    "expires": {"zh": "到期时间", "en": "Expires"},
    "give_up": {"zh": "放弃授权", "en": "Give up"},
    "no_requests": {"zh": "暂无申请。", "en": "No requests yet."},
    "no_grants": {"zh": "暂无授权。", "en": "No grants."},
    "request_no": {"zh": "申请 #{id}", "en": "Request #{id}"},
    "grant_no": {"zh": "授权 #{id}", "en": "Grant #{id}"},
    # -- approvals ---------------------------------------------------------------------
    "approvals_title": {"zh": "待我审批", "en": "Awaiting my decision"},
    "approvals_help": {
        "zh": "以下申请已按规则送交你审批。请核对用途、案件编号和范围；批准或驳回都须说明理由。",
        "en": "These requests were routed to you. Check purpose, case number and scope; "
              "give a reason for approving or rejecting.",
    },
    "requester": {"zh": "申请人", "en": "Requester"},
    "reason": {"zh": "理由", "en": "Reason"},
    "approve": {"zh": "批准", "en": "Approve"},
    "reject": {"zh": "驳回", "en": "Reject"},
    "approve_hours": {"zh": "批准期限（小时）", "en": "Approve for (hours)"},
    "decided_grants": {"zh": "我批准的授权", "en": "Grants I approved"},
    "holder": {"zh": "持有人", "en": "Holder"},
    "revoke": {"zh": "撤销", "en": "Revoke"},
    "revoke_reason": {"zh": "撤销理由", "en": "Reason for revoking"},
    "queue_empty": {"zh": "没有待审批的申请。", "en": "Nothing awaits your decision."},
    "bad_hours": {"zh": "期限须为 1–{max} 之间的整数（小时）。",
                  "en": "The duration is a whole number of hours, 1–{max}."},
    "reason_required": {"zh": "请填写理由。", "en": "Please give a reason."},
    "confirm_revoke": {"zh": "确定撤销此授权？撤销立即生效。", "en": "Revoke this grant? It takes effect at once."},
    "confirm_give_up": {"zh": "确定放弃此授权？", "en": "Give up this grant?"},
    "no_decided": {"zh": "你尚未批准任何授权。", "en": "You have not approved any grant."},
    # -- notifications -----------------------------------------------------------------
    "notifications_title": {"zh": "通知", "en": "Notifications"},
    "mark_read": {"zh": "标为已读", "en": "Mark read"},
    "mark_all_read": {"zh": "全部标为已读", "en": "Mark all read"},
    "no_notifications": {"zh": "暂无通知。", "en": "No notifications."},
    "unread": {"zh": "未读", "en": "Unread"},
    "read": {"zh": "已读", "en": "Read"},
    "time": {"zh": "时间", "en": "Time"},
    "message": {"zh": "内容", "en": "Message"},
    # -- audit -------------------------------------------------------------------------
    "audit_title": {"zh": "审计日志", "en": "Audit trail"},
    "alarms_title": {"zh": "异常告警", "en": "Alarms"},
    "filter": {"zh": "筛选", "en": "Filter"},
    "user": {"zh": "用户", "en": "User"},
    "user_hint": {"zh": "用户名或用户编号", "en": "User name or ID"},
    "action": {"zh": "操作", "en": "Action"},
    "action_hint": {"zh": "如 data.view，或 data.* 匹配前缀", "en": "e.g. data.view, or data.* for a prefix"},
    "outcome": {"zh": "结果", "en": "Outcome"},
    "any": {"zh": "全部", "en": "Any"},
    "since": {"zh": "起始时间", "en": "From"},
    "until": {"zh": "截止时间", "en": "Until"},
    "apply": {"zh": "查询", "en": "Apply"},
    "reset": {"zh": "重置", "en": "Reset"},
    "target": {"zh": "对象", "en": "Target"},
    "client": {"zh": "终端", "en": "Client"},
    "detail": {"zh": "详情", "en": "Detail"},
    "seq": {"zh": "序号", "en": "Seq"},
    "results": {"zh": "结果数", "en": "Results"},
    "pager": {"zh": "翻页", "en": "Pages"},
    "prev": {"zh": "上一页", "en": "Previous"},
    "next": {"zh": "下一页", "en": "Next"},
    "page_info": {"zh": "第 {first}–{last} 条，共 {total} 条", "en": "{first}–{last} of {total}"},
    "no_events": {"zh": "没有符合条件的记录。", "en": "No events match."},
    "bad_filter": {"zh": "筛选条件有误：{what}", "en": "Invalid filter: {what}"},
    "verify": {"zh": "校验日志完整性", "en": "Verify integrity"},
    "verify_help": {"zh": "逐条校验 SM3 链、记录 MAC 与 SM2 签名检查点。",
                    "en": "Checks the SM3 chain, each record's MAC and the SM2-signed checkpoints."},
    "verify_ok": {"zh": "完整：审计日志未被篡改。", "en": "Intact: the trail has not been tampered with."},
    "verify_bad": {"zh": "发现问题：审计日志可能被篡改！",
                   "en": "Problems found: the trail may have been tampered with!"},
    "records": {"zh": "记录数", "en": "Records"},
    "seq_range": {"zh": "序号范围", "en": "Sequence range"},
    "head": {"zh": "链头摘要", "en": "Head hash"},
    "checkpoints": {"zh": "检查点", "en": "Checkpoints"},
    "problems": {"zh": "问题", "en": "Problems"},
    "rule": {"zh": "规则", "en": "Rule"},
    "severity": {"zh": "级别", "en": "Severity"},
    "evidence": {"zh": "证据", "en": "Evidence"},
    "subject": {"zh": "涉及对象", "en": "Subject"},
    "raised": {"zh": "告警时间", "en": "Raised"},
    "dispose": {"zh": "处置", "en": "Dispose"},
    "disposition": {"zh": "处置结论", "en": "Disposition"},
    "note": {"zh": "处置说明", "en": "Note"},
    "no_alarms": {"zh": "没有未处置的告警。", "en": "No open alarms."},
    "dispose_help": {"zh": "请选择处置结论并填写处置说明。", "en": "Choose a disposition and say what was found."},
    "no_open_alarm": {"zh": "没有编号为 {id} 的未处置告警。", "en": "There is no open alarm {id}."},
    "alarm_filter": {"zh": "显示", "en": "Show"},
    "show_event": {"zh": "查看触发记录", "en": "Show the event"},
    # -- done (after a redirect) -------------------------------------------------------
    "done_requested": {"zh": "申请已提交，等待审批。", "en": "Request submitted; it awaits a decision."},
    "done_withdrawn": {"zh": "申请已撤回。", "en": "Request withdrawn."},
    "done_approved": {"zh": "已批准，授权即时生效。", "en": "Approved; the grant is in effect now."},
    "done_rejected": {"zh": "已驳回。", "en": "Rejected."},
    "done_revoked": {"zh": "授权已撤销，即时生效。", "en": "Grant revoked, with immediate effect."},
    "done_read": {"zh": "已标为已读。", "en": "Marked as read."},
    "done_disposed": {"zh": "告警已处置。", "en": "Alarm disposed of."},
}

#: names of codes, per kind: value → (Chinese, English)
_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "role": {r.value: (r.label_zh, en) for r, en in (
        (Role.OFFICER, "Officer"), (Role.INVESTIGATOR, "Investigator"), (Role.CITY_APPROVER, "City approver"),
        (Role.PROVINCE_APPROVER, "Province approver"), (Role.DISPATCHER, "Dispatcher"), (Role.STEWARD, "Data steward"),
        (Role.AUDITOR, "Auditor"), (Role.SECURITY_ADMIN, "Security administrator"),
        (Role.SYSTEM_ADMIN, "System administrator"), (Role.PARTNER, "Partner agency"),
    )},
    "level": {lv.value: (lv.label_zh, en) for lv, en in (
        (Level.PUBLIC, "Public"), (Level.INTERNAL, "Internal"), (Level.SENSITIVE, "Sensitive"),
        (Level.TOP_SECRET, "Top secret"),
    )},
    "scope": {
        "records": ("指定记录", "Listed records"),
        "person": ("人员", "A person"),
        "vehicle": ("车辆", "A vehicle"),
        "case": ("案件", "A case"),
    },
    "request_status": {
        "pending": ("待审批", "Pending"),
        "approved": ("已批准", "Approved"),
        "rejected": ("已驳回", "Rejected"),
        "withdrawn": ("已撤回", "Withdrawn"),
    },
    "grant_status": {
        "active": ("有效", "Active"),
        "expired": ("已过期", "Expired"),
        "revoked": ("已撤销", "Revoked"),
        "not_started": ("未生效", "Not yet started"),
    },
    "notification": {
        "request.pending": ("有新的授权申请待你审批", "An access request awaits your decision"),
        "request.approved": ("你的授权申请已批准", "Your access request was approved"),
        "request.rejected": ("你的授权申请被驳回", "Your access request was rejected"),
        "grant.revoked": ("你的一项授权已被撤销", "One of your grants was revoked"),
    },
    "alarm_rule": {
        "after_hours": ("非工作时间访问数据", "Data access outside working hours"),
        "volume": ("访问量异常", "Unusual volume of reads"),
        "repeated_denials": ("多次被拒绝", "Repeated denials"),
        "no_case_link": ("查询人员无关联案件", "Person looked up without a case"),
        "bulk_export": ("批量导出", "Bulk export"),
        "protected_person": ("访问受保护人员", "Protected person accessed"),
        "many_users_one_subject": ("同一对象被多人查询", "One subject, many users"),
        "self_or_family": ("查询本人或亲属", "Looking up oneself or family"),
        "dormant_account": ("休眠账号突然活跃", "Dormant account active again"),
        "audit_failure": ("审计日志写入失败", "The audit trail could not be written"),
    },
    "severity": {
        "low": ("低", "Low"),
        "medium": ("中", "Medium"),
        "high": ("高", "High"),
        "critical": ("严重", "Critical"),
    },
    "alarm_status": {
        "open": ("未处置", "Open"),
        "confirmed": ("确认违规", "Confirmed"),
        "false_positive": ("误报", "False positive"),
    },
    "outcome": {
        "ok": ("成功", "OK"),
        "allow": ("允许", "Allowed"),
        "masked": ("脱敏", "Masked"),
        "denied": ("拒绝", "Denied"),
        "hidden": ("不可见", "Hidden"),
        "failed": ("失败", "Failed"),
        "confirmed": ("确认违规", "Confirmed"),
        "false_positive": ("误报", "False positive"),
    },
    "evidence": {
        "denials": ("被拒次数", "Denials"),
        "events": ("审计记录序号", "Audit events"),
        "window_minutes": ("时间窗（分钟）", "Window (minutes)"),
        "window_hours": ("时间窗（小时）", "Window (hours)"),
        "local_time": ("本地时间", "Local time"),
        "action": ("操作", "Action"),
        "reads_today": ("今日访问量", "Reads today"),
        "own_daily_baseline": ("本人日均基线", "Own daily baseline"),
        "peer_p99_daily": ("同岗位日访问量 P99", "Peers' daily P99"),
        "threshold": ("阈值", "Threshold"),
        "case_no": ("案件编号", "Case number"),
        "persons": ("涉及人员", "Persons"),
        "known_case": ("已知案件", "Known case"),
        "rows": ("导出行数", "Rows exported"),
        "outcome": ("结果", "Outcome"),
        "target": ("对象", "Target"),
        "users": ("查询用户数", "Users"),
        "match": ("匹配方式", "Match"),
        "idle_days": ("休眠天数", "Days dormant"),
        "error": ("错误", "Error"),
    },
    "action": {
        "auth.sign_in": ("登录", "Sign-in"),
        "auth.sign_out": ("退出", "Sign-out"),
        "authz.denied": ("越权访问被拒", "Refused: role"),
        "access.request": ("申请授权", "Access request"),
        "access.approve": ("批准授权", "Approval"),
        "access.reject": ("驳回申请", "Rejection"),
        "access.withdraw": ("撤回申请", "Withdrawal"),
        "grant.revoke": ("撤销授权", "Grant revoked"),
        "data.view": ("查看记录", "Record viewed"),
        "data.search": ("一键查询", "Search"),
        "data.track": ("轨迹查询", "Trajectory"),
        "data.export": ("数据导出", "Export"),
        "audit.alarm_dispose": ("处置告警", "Alarm disposed"),
    },
}


def lang_of(query: str | None, cookie: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    return DEFAULT


def texts(lang: str) -> dict[str, str]:
    return {key: value.get(lang, value[DEFAULT]) for key, value in _TEXTS.items()}


def label(kind: str, value: object, lang: str) -> str:
    """The name of code ``value`` of ``kind`` (a role, level, status …) in ``lang``; the code itself if unnamed."""
    names = _LABELS.get(kind, {}).get(str(value))
    if names is None:
        return str(value)
    return names[0] if lang == "zh" else names[1]


def labels(kind: str, lang: str) -> Mapping[str, str]:
    """Every named code of ``kind``, in ``lang`` (for select boxes)."""
    return {value: (zh if lang == "zh" else en) for value, (zh, en) in _LABELS.get(kind, {}).items()}


def add_labels(kind: str, names: Mapping[str, tuple[str, str]]) -> None:
    """Name more codes of ``kind`` (Chinese, English), e.g. the audit actions of a new page."""
    _LABELS.setdefault(kind, {}).update(names)


def add_texts(more: Mapping[str, Mapping[str, str]]) -> None:
    """Add interface texts (``{"key": {"zh": …, "en": …}}``); a key already defined is an error."""
    for key, value in more.items():
        if key in _TEXTS:
            raise ValueError(f"interface text {key!r} is already defined")
        if set(value) != set(LANGS):
            raise ValueError(f"interface text {key!r} needs exactly {LANGS}")
        _TEXTS[key] = dict(value)


__all__ = ["DEFAULT", "LANGS", "add_labels", "add_texts", "label", "labels", "lang_of", "texts"]
