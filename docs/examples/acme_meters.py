# acme_meters.py: a community DL/T 645 meter model is a point table, a model and one hook
from hub.hookspecs import hookimpl
from hub.metering.model import Capability
from meterhub_dlt645 import DataItem, Dlt645Model, add_data_item, number

# ACME keeps the prepaid balance at its own data identifier, not at DL/T 645's 00900200.
ACME_BALANCE = 0x04A00100
add_data_item(DataItem(ACME_BALANCE, "ACME remaining amount", "ACME 剩余金额",
                       number("XXXXXX.XX"), "CNY"))

ACME_DDS = Dlt645Model(
    "acme_dds",
    "ACME DDS-1 single-phase prepaid meter (DL/T 645-2007, vendor balance DI)",
    frozenset({Capability.RELAY, Capability.PREPAID, Capability.INSTANT}),
    {
        "energy_import_total": 0x00010000,  # forward active energy, total (kWh)
        "voltage": 0x02010100,  # phase A voltage (V)
        "current": 0x02020100,  # phase A current (A)
        "balance": ACME_BALANCE,  # remaining amount (CNY), the vendor DI above
        "relay": 0x04000503,  # run status word 3: relay open / closed
    },
)


@hookimpl
def register_meter_models():
    return [ACME_DDS]
