"""Nightly backups (storage.backup): written at their time by the site clock, rotated, and a
missing or read-only target reported, on a real SQLite database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

from common import Clock, t, wait_for
from storage_helpers import MakeStorage, energy

from hub.storage import Storage, StorageSettings
from hub.storage.tools.backup import BackupInfo, describe
from hub.storage.tools.nightly import BackupPlan, BackupSchedule, backups_in


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` refuse new files, for root too (the immutable flag), then undo it."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


async def test_a_backup_each_night_rotated_and_failures_reported(
        make_storage: MakeStorage, tmp_path: Path) -> None:
    clock = Clock("2026-03-01T03:59:00")
    storage = await make_storage(clock=lambda: clock().timestamp())
    await storage.add_readings([energy("m1", t("2026-03-01T01:00"), "1"),
                                energy("m1", t("2026-03-01T02:00"), "2")])
    await storage.flush()
    usb = tmp_path / "usb"
    usb.mkdir()
    failures: list[tuple[Path, str]] = []
    written: list[BackupInfo] = []
    schedule = BackupSchedule(storage.path, BackupPlan(usb, time(4, 0), keep=2), storage.tz,
                              lambda: clock().timestamp(),
                              lambda folder, error: failures.append((folder, error)),
                              lambda info, removed: written.append(info), poll=0.01)
    task = asyncio.create_task(schedule.run())
    try:
        await asyncio.sleep(0.3)
        assert backups_in(usb) == [] and not failures  # 03:59: not yet
        names = []
        for night in range(3):
            clock.set(t("2026-03-01T04:00:01") + timedelta(days=night))
            await wait_for(lambda night=night: len(written) == night + 1, timeout=30)
            names.append(written[-1].path.name)
            assert describe(written[-1].path).readings == 2 + night  # a consistent copy
            await storage.add_readings([energy("m1", t("2026-03-01T04:00")
                                               + timedelta(days=night), str(3 + night))])
            await storage.flush()
        assert names == ["meterhub-20260301-040001.db", "meterhub-20260302-040001.db",
                         "meterhub-20260303-040001.db"]
        assert [path.name for path in backups_in(usb)] == names[1:]  # keep: 2

        usb.rename(tmp_path / "unplugged")  # the stick is gone: nothing is created instead
        clock.set(t("2026-03-04T04:00:01"))
        await wait_for(lambda: len(failures) == 1, timeout=30)
        assert failures[0][0] == usb and "does not exist" in failures[0][1]
        assert not usb.exists() and len(written) == 3

        (tmp_path / "unplugged").rename(usb)
        with read_only(usb):
            clock.set(t("2026-03-05T04:00:01"))
            await wait_for(lambda: len(failures) == 2, timeout=30)
        assert failures[1] == (usb, f"the backup folder {usb} is not writable by this user")
        assert len(written) == 3
        assert sorted(path.name for path in usb.iterdir()) == names[1:]  # no partial left
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_the_backup_block_reads_its_folder_beside_the_data(tmp_path: Path) -> None:
    settings = StorageSettings.from_block({"backup": {"to": "/media/usb/meterhub"}}, tmp_path)
    assert settings.backup == BackupPlan(Path("/media/usb/meterhub"), time(4, 0), 14)
    relative = StorageSettings.from_block({"backup": {"to": "b", "at": "02:30", "keep": 3}},
                                          tmp_path)
    assert relative.backup == BackupPlan(tmp_path / "b", time(2, 30), 3)
    assert StorageSettings.from_block({}, tmp_path).backup is None


async def test_storage_starts_the_schedule_it_is_given(make_storage: MakeStorage,
                                                       tmp_path: Path) -> None:
    plan = BackupPlan(tmp_path / "nowhere", time(4, 0), 2)
    storage: Storage = await make_storage(backup=plan)
    assert any(task.get_name() == "storage nightly backup" for task in storage._tasks)
