"""check-config of the notify: and notices: blocks: apprise checks every URL, with file:line."""

from __future__ import annotations

from pathlib import Path

from notify_support import TOKEN, config, problems_of


def test_an_unknown_scheme_is_refused_with_file_and_line_and_no_token(
        tmp_path: Path) -> None:
    text = config(f"""
        notify:
          landlord:
            urls:
              - "json://127.0.0.1:8080/hook/{TOKEN}"
              - "wxpusherr://AT_{TOKEN}/UID_abc"
          ops: "no scheme {TOKEN}"
        """)
    found = problems_of(tmp_path, text)
    assert len(found) == 2, found
    assert found[0].startswith("hub.yaml:10 notify.landlord.urls[1]: ")
    assert "unknown scheme 'wxpusherr://'" in found[0]
    assert found[1].startswith("hub.yaml:11 notify.ops")
    assert "scheme://" in found[1]
    assert all(TOKEN not in problem for problem in found)


def test_a_url_apprise_cannot_use_is_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, config('notify: {ops: {urls: ["mailto://"]}}'))
    assert len(found) == 1 and "notify.ops.urls[0]" in found[0]
    assert "'mailto://' URL that apprise cannot use" in found[0]


def test_types_keys_and_the_reserved_tenant_name(tmp_path: Path) -> None:
    text = config("""
        notify:
          a: {type: sms, urls: "json://h/x"}
          b: {urls: "json://h/x", retries: -1, colour: red}
          c: {}
          tenant: {urls: "json://h/x"}
        """)
    found = problems_of(tmp_path, text)
    joined = "\n".join(found)
    assert ("notify.a.type: expected a notifier type (aliyun_sms, apprise, file, tencent_sms, "
            "wechat_template), got unknown type 'sms'") in joined
    assert "notify.b.retries" in joined and "unknown key 'colour'" in joined
    assert "notify.c.urls: required key is missing" in joined
    assert "notify.tenant.urls: unknown key 'urls'" in joined
    assert all(problem.startswith("hub.yaml:") for problem in found)


def test_notices_must_name_defined_notifiers(tmp_path: Path) -> None:
    text = config("""
        notify:
          landlord: "json://127.0.0.1/hook"
        notices:
          balance_low: {notify: [landlord, ops]}
          alarm: {notify: tenant}
        """)
    found = problems_of(tmp_path, text)
    assert any(p.startswith("hub.yaml:9 notices.balance_low.notify[1]: unknown notifier 'ops'")
               for p in found), found
    assert any("notices.alarm.notify[0]: write 'tenant: true'" in p for p in found), found


def test_a_bad_template_and_an_unknown_notice_are_refused(tmp_path: Path) -> None:
    text = config("""
        notices:
          balance_low: {message: "{{ balance "}
          balance_lo: {enabled: false}
        """)
    found = problems_of(tmp_path, text)
    assert any("notices.balance_low.message: template error" in p for p in found), found
    assert any("unknown key 'balance_lo' (did you mean 'balance_low'?)" in p
               for p in found), found


def test_tenant_urls_are_checked_too(tmp_path: Path) -> None:
    text = config(f"""
        accounts:
          - id: r101
            contacts: {{notify: ["json://127.0.0.1/{TOKEN}"]}}
          - id: r102
            contacts:
              notify:
                - "json://127.0.0.1/ok"
                - "smss://{TOKEN}"
        """)
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith("hub.yaml:13 accounts[1].contacts.notify[1]: ")
    assert TOKEN not in found[0]


def test_a_good_configuration_passes(tmp_path: Path) -> None:
    text = config("""
        notify:
          landlord: {urls: ["wxpusher://AT_abcdefg/UID_abcdefg", "mailto://u:p@example.com"],
                     title: 阳光公寓, timeout: 5s, retries: 2, retry_delay: 1s}
          dingtalk: "dingtalk://secrettoken/"
          tenant: {timeout: 5s}
        notices:
          language: en
          dedupe: 1h
          balance_low: {notify: landlord, message: "{{ account }}: {{ balance }}"}
          meter_offline: {enabled: false}
        """)
    assert problems_of(tmp_path, text) == []
