"""Access control's messages (users, tokens, passwords) in zh-CN and en."""

from __future__ import annotations

from ..i18n import add_strings

__all__ = ["STRINGS"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "auth.password_short": "password: at least {count} characters",
        "auth.password_spaces": "password: no spaces at its start or end",
        "auth.user_name": "user: '{name}' is not a valid name (lower-case letters, digits, "
                          "'.', '_' and '-', starting with a letter or digit, at most 64)",
        "auth.role": "role: '{role}' is not one of {roles}",
        "auth.scope_needed": "scope: a {role} needs a scope (tags such as building=A)",
        "auth.admin_scope": "scope: an admin has the whole site (no scope)",
        "auth.user_exists": "user: '{name}' exists already",
        "auth.no_user": "user: no user '{name}'",
        "auth.user_disabled": "user: '{name}' is disabled",
        "auth.token_role": "role: a token of '{name}' can only have their role ({role})",
        "auth.token_scope": "scope: a token of '{name}' must stay inside their scope {scope}",
        "auth.token_name": "name: say what the token is for",
        "auth.no_such": "{kind}: no {kind} '{ident}'",
        "auth.tag_form": "{option}: expected TAG=VALUE, got '{item}'",
        "auth.stdin_empty": "password: standard input had no line",
        "auth.no_terminal": "password: no terminal to ask on; use --password-stdin",
        "auth.passwords_differ": "password: the two entries differ",
        "auth.no_database": "no hub answers and the database cannot be opened: {problem}",
        "auth.login_blocked": "too many failed logins: try again in {seconds} s",
        "auth.login_failed": "wrong user name or password",
        "auth.current_password": "current: the current password is not right",
        "auth.setup_blocked": "too many wrong codes: try again in {seconds} s",
        "auth.setup_code": "wrong or used set-up code",
        "auth.setup_done": "the hub has users already: log in",
        "auth.audit_time": "{name}: '{text}' is not an ISO date or time",
        "auth.audit_limit_int": "limit: '{limit}' is not a whole number",
        "auth.audit_limit": "limit: between 1 and {most}, got {count}",
    },
    "zh-CN": {
        "auth.password_short": "password：密码至少 {count} 个字符",
        "auth.password_spaces": "password：密码首尾不能有空格",
        "auth.user_name": "user：'{name}' 不是有效的用户名（小写字母、数字、'.'、'_' 和 '-'，"
                          "以字母或数字开头，最多 64 个字符）",
        "auth.role": "role：'{role}' 不是以下角色之一：{roles}",
        "auth.scope_needed": "scope：{role} 角色需要管辖范围（如 building=A 这样的标签）",
        "auth.admin_scope": "scope：管理员管辖整个站点，不能设管辖范围",
        "auth.user_exists": "user：用户 '{name}' 已存在",
        "auth.no_user": "user：没有用户 '{name}'",
        "auth.user_disabled": "user：用户 '{name}' 已停用",
        "auth.token_role": "role：'{name}' 的令牌只能使用其本人的角色（{role}）",
        "auth.token_scope": "scope：'{name}' 的令牌不能超出其本人的管辖范围 {scope}",
        "auth.token_name": "name：请写明令牌的用途",
        "auth.no_such": "{kind}：没有 '{ident}'",
        "auth.tag_form": "{option}：应为 标签=值 的形式，实际为 '{item}'",
        "auth.stdin_empty": "password：标准输入中没有读到密码",
        "auth.no_terminal": "password：没有可输入密码的终端；请改用 --password-stdin",
        "auth.passwords_differ": "password：两次输入的密码不一致",
        "auth.no_database": "MeterHub 没有响应，数据库也无法打开：{problem}",
        "auth.login_blocked": "登录失败次数过多：请 {seconds} 秒后再试",
        "auth.login_failed": "用户名或密码错误",
        "auth.current_password": "current：当前密码不正确",
        "auth.setup_blocked": "设置码错误次数过多：请 {seconds} 秒后再试",
        "auth.setup_code": "设置码错误或已用过",
        "auth.setup_done": "已经有用户了：请直接登录",
        "auth.audit_time": "{name}：'{text}' 不是 ISO 格式的日期或时间",
        "auth.audit_limit_int": "limit：'{limit}' 不是整数",
        "auth.audit_limit": "limit：应在 1 到 {most} 之间，实际为 {count}",
    },
}
add_strings(STRINGS)
