"""The built-in plugins' refusals speak the reader's language: check-config on their options,
the REST API on their services."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from common import bounded, start_hub, web_client
from test_api_messages import english_words
from test_check_config_messages import assert_chinese, problem_lines

from hub.i18n import Text, localize, text_of
from meterhub_modbus.errors import ModbusError
from meterhub_modbus.tool import ModbusRtuCodec

METER_OPTIONS = """site: {{name: 阳光公寓, language: {language}}}
links: [{{id: sim1, type: sim}}]
meters:
  - {{id: m1, model: ddsy, link: sim1, address: "1", options: {{protocol: 2008, timeout: 0}}}}
  - {{id: m2, model: ddsy, link: sim1, address: "2", options: {{operator: XYZ}}}}
  - {{id: w1, model: cjt188_water, link: sim1, address: "123456789012345678"}}
  - {{id: w2, model: cjt188_water, link: sim1, address: "AAAAAAAAAAAAAA"}}
  - {{id: w3, model: cjt188_water, link: sim1, address: "3", options: {{di_order: sideways}}}}
  - {{id: w4, model: cjt188_water, link: sim1, address: "4",
      options: {{meter_type: hot, timeout: -1}}}}
"""


def test_meter_option_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, METER_OPTIONS)
    assert len(lines["en"]) == 8, lines
    assert any("expected protocol 2007, 1997 or auto" in line for line in lines["en"]), lines
    assert any("is the wildcard address" in line for line in lines["en"]), lines
    assert_chinese(lines["zh-CN"], {"auto", "lo_first", "hi_first", "F90", "F", "AAAAAAAAAAAAAA"})


MODBUS = """site: {{name: 阳光公寓, language: {language}}}
links: [{{id: sim1, type: sim}}]
meters:
  - {{id: e1, model: modbus, link: sim1, address: "300", options: {{timeout: 0}}}}
  - id: e2
    model: modbus
    link: sim1
    address: "2"
    options:
      registers:
        - {{point: voltag, address: 0, type: float32}}
        - {{point: current, address: 70000, type: float32, scale: 0}}
        - {{point: power, address: 65535, type: float32, unit: V}}
      relay: {{coil: 1, register: 2}}
  - {{id: e3, model: modbus, link: sim1, address: "3"}}
"""


def test_modbus_register_map_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, MODBUS)
    assert len(lines["en"]) == 9, lines
    assert any("give 'coil' or 'register', not both" in line for line in lines["en"]), lines
    points = {"voltage", "current", "power", "power_factor", "frequency", "energy_import_total",
              "energy_export_total"}
    assert_chinese(lines["zh-CN"], {"MeterHub", "Modbus", "modbus", "float32", "W", "kW", "MW",
                                    "include", *points})


NOTIFY = """site: {{name: 阳光公寓, language: {language}}}
notify:
  a: {{type: smsx}}
  b: {{type: tencent_sms, secret_id: "", secret_key: k, sdk_app_id: "1", sign_name: s,
      template_id: "1", phones: ["123"], params: {{x: a}}}}
  c: {{type: file, path: n.jsonl, timeout: 0}}
"""


def test_notifier_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, NOTIFY)
    assert len(lines["en"]) == 5, lines
    assert any("expected a duration above 0" in line for line in lines["en"]), lines
    assert_chinese(lines["zh-CN"], {"aliyun_sms", "apprise", "file", "tencent_sms",
                                    "wechat_template", "secret"})


NOTIFY_HUB = """
site: {name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}
http: {port: 0, host: 127.0.0.1}
accounts:
  - {id: a1}
notify:
  landlord: {type: file, path: notices.jsonl}
"""


@pytest.mark.timeout(120)
@bounded(90)
async def test_notify_service_refusals_are_worded_in_the_callers_language(
        tmp_path: Path) -> None:
    calls = [("/api/services/notify/landlord", {"message": "x", "template": "balance_low"}),
             ("/api/services/notify/tenant", {"message": "x"})]
    async with start_hub(tmp_path, NOTIFY_HUB) as hub, web_client(hub, tmp_path) as client:
        for path, body in calls:
            response = await client.post(path, json=body, headers={"Accept-Language": "zh-CN"})
            assert response.status == 400, await response.text()
            message = (await response.json())["error"]["message"]
            assert re.search(r"[\u4e00-\u9fff]", message), message
            assert english_words(re.sub(r"'[^']*'", "", message)) == [], message


PAYMENTS = """site: {{name: 阳光公寓, language: {language}}}
payments:
  public_url: https://pay.example.com
  providers:
    - {{provider: wechatpay, mchid: "1", appid: wx, serial_no: S, private_key: k,
        api_v3_key: short}}
"""


def test_payment_provider_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, PAYMENTS)
    assert lines["en"] == ["payments.providers[0].api_v3_key: expected the 32-character APIv3 "
                           "key (APIv3密钥)"], lines
    assert_chinese(lines["zh-CN"], {"APIv3"})


NBIOT = """site: {{name: 阳光公寓, language: {language}}}
links:
  - {{id: nb1, type: nbiot, ctwing: {{token: t, api_url: "ftp://x"}}}}
  - {{id: nb2, type: nbiot, ctwing: {{token: t, app_key: k}}}}
  - {{id: nb3, type: nbiot, udp: "127.0.0.1:9100"}}
  - {{id: plc1, type: carrier}}
  - {{id: plc2, type: carrier, host: 192.168.1.60}}
meters:
  - {{id: w1, model: nb_water, link: nb3, address: "1", link_options: {{imei: "12345"}}}}
"""


def test_nbiot_and_carrier_link_problems_speak_the_sites_language(tmp_path: Path) -> None:
    lines = problem_lines(tmp_path, NBIOT)
    assert len(lines["en"]) == 5, lines
    assert "links[4].port: a concentrator reached over TCP needs 'port'" in lines["en"], lines
    assert any("missing: app_secret, master_key" in line for line in lines["en"]), lines
    assert_chinese(lines["zh-CN"], {"http", "https", "CTWing", "app_key", "app_secret",
                                    "master_key", "IMEI", "nbiot", "TCP"})


def test_the_modbus_frame_tools_refusals_are_keyed() -> None:
    # `meterhub frame` prints these (hub/cli.py words them); here: each is a Text whose
    # zh-CN wording has no English words beyond the parameters it names
    codec = ModbusRtuCodec()
    calls: list[Callable[[], object]] = [
        lambda: codec.encode("read", "0", register="1"),
        lambda: codec.encode("coil", "1", coil="1", state="half"),
        lambda: codec.encode("jump", "1"),
        lambda: codec.decode(bytes.fromhex("0104")),
        lambda: codec.decode(bytes.fromhex("010400000002FFFF")),
    ]
    for call in calls:
        with pytest.raises(ModbusError) as caught:
            call()
        message = text_of(caught.value)
        assert isinstance(message, Text), message
        zh = localize(message, "zh-CN")
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
        words = english_words(re.sub(r"'[^']*'|\b[0-9A-F]{2}\b", "", zh))  # values, bytes
        assert [w for w in words if w not in {"address", "state", "on", "off", "modbus_rtu",
                                             "read", "write", "coil", "trip", "close",
                                             "Modbus", "RTU", "CRC"}] == [], zh
