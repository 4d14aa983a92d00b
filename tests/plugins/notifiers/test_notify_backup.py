"""A failed nightly backup is an alarm: the ``backup_failed`` event and the landlord's notice."""

from __future__ import annotations

from pathlib import Path

from common import collect, start_hub, wait_for
from notify_support import BASE, receiver

from hub.i18n import Text
from hub.storage import Storage


async def test_a_missing_backup_target_alarms_the_landlord(tmp_path: Path) -> None:
    """The built-in notice words the hub's own reason in the notices' language (not in
    English inside a Chinese SMS), and so does an override's ``{{ error }}``."""
    target = tmp_path / "usb" / "meterhub"
    async with receiver() as rx:
        text = BASE.replace("LANG", "zh-CN").replace(
            "storage: {commit_interval: 0.02}",
            f"storage: {{commit_interval: 0.02, backup: {{to: '{target}', at: '04:00'}}}}",
        ) + (f'notify:\n  landlord: {{urls: "{rx.url("landlord")}"}}\n'
             f'  mine: {{urls: "{rx.url("mine")}"}}\n'
             "notices:\n  backup_failed:\n    notify: [landlord, mine]\n"
             "    message: '备份失败 {{ error }} / {{ event.error }}'\n")
        async with start_hub(tmp_path, text) as hub:
            alarms = collect(hub, "backup_failed")
            storage = hub.component("storage", Storage)
            assert storage.settings.backup is not None
            # what the schedule runs at 04:00
            assert not await storage.backups(storage.settings.backup).run_once()
            await wait_for(lambda: rx.bodies("landlord") and rx.bodies("mine"), timeout=30)
    assert [event.data["target"] for event in alarms] == [str(target)]
    reason = (f"备份文件夹 {target} 不存在（U 盘或网络共享是否已挂载？）；"
              "不会在 SD 卡上自动创建")
    assert rx.bodies("landlord")[0]["title"] == "夜间备份失败"
    assert rx.bodies("landlord")[0]["message"] == f"备份失败 {reason} / {reason}"
    assert rx.bodies("mine")[0]["message"] == f"备份失败 {reason} / {reason}"
    assert not target.exists()


async def test_the_built_in_notice_words_the_reason_in_its_language(tmp_path: Path) -> None:
    target = tmp_path / "usb" / "meterhub"
    async with receiver() as rx:
        text = BASE.replace("LANG", "zh-CN").replace(
            "storage: {commit_interval: 0.02}",
            f"storage: {{commit_interval: 0.02, backup: {{to: '{target}', at: '04:00'}}}}",
        ) + f'notify:\n  landlord: {{urls: "{rx.url("landlord")}"}}\n'
        async with start_hub(tmp_path, text) as hub:
            storage = hub.component("storage", Storage)
            assert storage.settings.backup is not None
            assert not await storage.backups(storage.settings.backup).run_once()
            await wait_for(lambda: rx.bodies("landlord"), timeout=30)
    assert rx.bodies("landlord")[0]["message"] == (
        f"【阳光公寓】今晚的数据备份没有写到 {target}：备份文件夹 {target} 不存在"
        "（U 盘或网络共享是否已挂载？）；不会在 SD 卡上自动创建。"
        "请检查 U 盘或网络共享是否已挂载、可写且有空间；明晚会再试。")


async def test_a_message_of_the_hub_given_to_a_notifier_is_worded(tmp_path: Path) -> None:
    """``notify.<name>`` with a free message: a value that is a message of the hub (an
    automation passing an event's reason on) is written in the site's language."""
    async with receiver() as rx:
        text = BASE.replace("LANG", "zh-CN") + \
            f'notify:\n  landlord: {{urls: "{rx.url("landlord")}"}}\n'
        async with start_hub(tmp_path, text) as hub:
            await hub.services.call("notify", "landlord", {
                "message": "原因：{{ why }}",
                "data": {"why": Text("storage.backup_read_only", folder="/mnt/usb")}})
            await wait_for(lambda: rx.bodies("landlord"), timeout=30)
    assert rx.bodies("landlord")[0]["message"] == "原因：当前用户无权写入备份文件夹 /mnt/usb"
