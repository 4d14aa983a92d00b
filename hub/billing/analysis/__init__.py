"""Cost sharing (公摊), loss analysis and reports: a core plugin.

It claims two blocks, builds the ``analysis`` component (:class:`.service.Analysis`)
with its nightly job and the ``share.split`` service (an invoice's amount split among a group),
serves the reports under ``/api/reports/`` and adds ``meterhub report
consumption|loss|arrears|receivable`` and ``meterhub share preview|split``::

    share_groups:
      - id: stair_a                # 公摊组
        meter: a_common            # or meters: [...]; meters may also say share_group: stair_a
        tags: {building: A}        # or members: [r101, r102]
        split: area                # area | persons | consumption | equal | ratios
        tariff: commercial         # default: the common meter's own tariff
                                   # (amount: 300.00 instead of a meter: a fixed monthly cost;
                                   # invoices_only: true: no meter, invoices only)
    loss:
      threshold_percent: 8         # loss above this: alarm (possible theft or leak)
      negative_percent: 2          # children above the parent by more: alarm (a fault)
      min_quantity: 5              # both below this: no alarm
      kinds: [electricity, water]
      at: "01:00"                  # the nightly job
      rules: [{tags: {building: B}, threshold_percent: 12}]
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from ...hookspecs import hookimpl

if TYPE_CHECKING:
    from ...core import Hub
    from .service import Analysis

_LOGGER = logging.getLogger(__name__)

@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``share_groups``, ``loss`` and ``buildings`` (area and persons, for energy use
    per m² and per person)."""
    from ..loss import LOSS_SCHEMA
    from ..sharing import SHARE_GROUPS_SCHEMA
    from ..trends import BUILDINGS_SCHEMA

    return {"share_groups": SHARE_GROUPS_SCHEMA, "loss": LOSS_SCHEMA,
            "buildings": BUILDINGS_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Share groups name real meters, accounts and tariffs, and members have what the split
    needs; meters' ``share_group`` names a real group."""
    from .checks import check_share_groups

    return check_share_groups(config)


@hookimpl
def setup(hub: Hub) -> None:
    """Create the ``analysis`` component and its nightly job (needs storage)."""
    from ...ledger import MeterBook
    from ..buildings import setup_buildings
    from .service import Analysis

    if not hub.has_component("storage"):
        _LOGGER.warning("No storage: cost sharing, loss analysis and reports are off")
        return
    analysis = Analysis.from_hub(hub)
    hub.add_component("analysis", analysis)
    analysis.buildings = setup_buildings(hub).entries  # runtime buildings count too
    if hub.has_component("meter_book"):  # meters added or changed at runtime count too
        book = hub.component("meter_book", MeterBook)
        analysis.meter_source = book.entries  # taken again at start, after the book loaded
        book.add_listener(lambda _meter_id, _context: analysis.use_meters(book.entries))
    register_services(hub, analysis)
    hub.add_stage("analysis", start=analysis.start, stop=analysis.stop, requires=("storage",),
                  after=("billing",))


def register_services(hub: Hub, analysis: Analysis) -> None:
    """``share.split``: an invoice's amount split among a share group (posted with post)."""
    from ...const import SupportsResponse
    from ...core import ServiceCall
    from ...exceptions import ServiceValidationError
    from ...i18n import text_of
    from ..invoice_split import SPLIT_SCHEMA
    from ..sharing import ShareError

    async def split(call: ServiceCall) -> dict[str, Any]:
        """Split (and with post, post) an invoice's amount."""
        try:
            return await analysis.share_split(call.data, context=call.context)
        except ShareError as err:
            raise ServiceValidationError(
                "share.split", [text_of(err)]) from None

    hub.services.register("share", "split", split, SPLIT_SCHEMA,
                          supports_response=SupportsResponse.OPTIONAL)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub report ...`` and ``meterhub share preview|split``."""
    from .cli import add_commands

    add_commands(subparsers)


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """Report column headings."""
    from ..reports import LABELS

    return {language: {f"report.{key}": text for key, text in table.items()}
            for language, table in LABELS.items()}
