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
    },
}
add_strings(STRINGS)
