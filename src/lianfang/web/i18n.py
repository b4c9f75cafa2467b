"""Interface texts in Simplified Chinese (default) and English; ``?lang=en`` switches, a cookie remembers."""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT = "zh"

_TEXTS: dict[str, dict[str, str]] = {
    "app": {"zh": "联防 · 跨市治安数据共享平台", "en": "Lianfang · cross-city public-security data sharing"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "code": {"zh": "动态口令（6 位）", "en": "One-time code (6 digits)"},
    "welcome": {"zh": "欢迎", "en": "Welcome"},
    "unit": {"zh": "单位", "en": "Unit"},
    "roles": {"zh": "角色", "en": "Roles"},
    "notifications": {"zh": "未读通知", "en": "Unread notifications"},
    "queue": {"zh": "待我审批", "en": "Awaiting my decision"},
    "idle": {"zh": "空闲超时（分钟）", "en": "Idle timeout (minutes)"},
    "must_change": {"zh": "请尽快修改初始密码。", "en": "Please change your initial password soon."},
    "bad_form": {"zh": "表单已过期，请重试。", "en": "The form expired; please try again."},
    "switch": {"zh": "English", "en": "中文"},
}


def lang_of(query: str | None, cookie: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    return DEFAULT


def texts(lang: str) -> dict[str, str]:
    return {key: value.get(lang, value[DEFAULT]) for key, value in _TEXTS.items()}


__all__ = ["DEFAULT", "LANGS", "lang_of", "texts"]
