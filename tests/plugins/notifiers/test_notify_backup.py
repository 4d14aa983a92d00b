"""A failed nightly backup is an alarm: the ``backup_failed`` event and the landlord's notice."""

from __future__ import annotations

from pathlib import Path

from common import collect, start_hub, wait_for
from notify_support import BASE, receiver

from hub.storage import Storage


async def test_a_missing_backup_target_alarms_the_landlord(tmp_path: Path) -> None:
    target = tmp_path / "usb" / "meterhub"
    async with receiver() as rx:
        text = BASE.replace("LANG", "zh-CN").replace(
            "storage: {commit_interval: 0.02}",
            f"storage: {{commit_interval: 0.02, backup: {{to: '{target}', at: '04:00'}}}}",
        ) + f'notify:\n  landlord: {{urls: "{rx.url("landlord")}"}}\n'
        async with start_hub(tmp_path, text) as hub:
            alarms = collect(hub, "backup_failed")
            storage = hub.component("storage", Storage)
            assert storage.settings.backup is not None
            # what the schedule runs at 04:00
            assert not await storage.backups(storage.settings.backup).run_once()
            await wait_for(lambda: rx.bodies("landlord"), timeout=30)
    assert [event.data["target"] for event in alarms] == [str(target)]
    assert rx.bodies("landlord")[0]["title"] == "夜间备份失败"
    assert rx.bodies("landlord")[0]["message"] == (
        f"【阳光公寓】今晚的数据备份没有写到 {target}：the backup folder {target} does not exist "
        "(is the USB stick or network share mounted?); it is not created on the SD card。"
        "请检查 U 盘或网络共享是否已挂载、可写且有空间；明晚会再试。")
    assert not target.exists()
