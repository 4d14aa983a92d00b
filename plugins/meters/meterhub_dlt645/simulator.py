"""A simulated DL/T 645 prepaid meter (DDSY single-phase, DTSY three-phase); 2007 or 1997.

It answers real frames at its address (and AA wildcard reads); broadcasts are applied but
never answered (a broadcast time more than ``max_broadcast_correction``, 5 min by default,
from the meter's clock is ignored, as real meters do). Energy accumulates from the load
profile by the simulation clock, into the total and the TOU register of the band the
meter's *own* clock is in; a tripped relay cuts the load. Relay commands check the
password and the validity end time; protect refuses trips. Voltage, current and phase
loss can be injected; status words follow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from hub.metering.sim import LoadProfile, SimClock, SimulatedMeter
from hub.util.dt import site_time_zone

from .bcd import DateWeek, weekday_of
from .bcd import fit as _fit
from .codec import (
    Credentials,
    Dlt645Parser,
    Frame,
    ack_reply,
    address_matches,
    address_reply,
    error_reply,
    follow_up_reply,
    parse_freeze,
    parse_relay,
    parse_time_sync,
    parse_write,
    read_reply,
)
from .const import (
    BAUD_WORD,
    BROADCAST,
    ERR_BAUD,
    ERR_NO_DATA,
    ERR_OTHER,
    ERR_PASSWORD,
    PROTOCOL,
    Function,
    RelayAction,
)
from .dis import (
    DAILY_FROZEN_RECORDS,
    DATA_ITEMS,
    DI_DATE,
    DI_DAY_SWITCH,
    DI_HOLIDAY_COUNT,
    DI_OVER_CURRENT,
    DI_OVER_CURRENT_DELAY,
    DI_RATE_COUNT,
    DI_REST_TABLE,
    DI_REST_WORD,
    DI_SEGMENT_COUNT,
    DI_STATUS_BLOCK,
    DI_TABLE_COUNT,
    DI_TIME,
    DI_ZONE_COUNT,
    DI_ZONE_SWITCH,
    STATUS_WORD_DIS,
    DataItem,
    day_table_di,
    holiday_di,
    zone_table_di,
)
from .errors import Dlt645Error
from .loadrecords import DI_LOAD_RECORDS, LoadRecord, encode_block, parse_request
from .records import BY_KIND, MAX_RECORDS, encode_record
from .simulator1997 import Answers1997
from .status import PHASE_FAULT_BITS, WORD1_BITS, encode_flags, encode_word3
from .v1997 import Function1997

_LOGGER = logging.getLogger(__name__)

BANDS = {"sharp": 1, "peak": 2, "flat": 3, "valley": 4, "t1": 1, "t2": 2, "t3": 3, "t4": 4}

# A common Chinese residential TOU day: valley at night, peak and a sharp evening block.
DEFAULT_TOU: tuple[tuple[str, str], ...] = (
    ("00:00", "valley"), ("07:00", "flat"), ("08:00", "peak"), ("11:00", "flat"),
    ("18:00", "peak"), ("19:00", "sharp"), ("21:00", "peak"), ("23:00", "valley"),
)

_WILDCARD_FUNCTIONS = frozenset((Function.READ, Function.READ_FOLLOW_UP, Function.READ_ADDRESS,
                                 Function1997.READ, Function1997.READ_FOLLOW_UP))
_CENT = Decimal("0.01")
# A broadcast time sync further than this from the meter's clock is ignored (seconds; the
# simulator option max_broadcast_correction, None = any): real meters accept only a small
# correction by broadcast; a badly wrong clock is set by a write with the password.
MAX_BROADCAST_CORRECTION = 300.0
LOAD_RECORDS = 96 * 10  # load records a meter keeps (10 days of 15-minute records)
_PHASES = "abc"


def parse_schedule(schedule: Iterable[tuple[str | time, int | str]]
                   ) -> list[tuple[timedelta, int]]:
    """A TOU day as sorted (offset from midnight, band 1..4); bands by number or name."""
    out: list[tuple[timedelta, int]] = []
    for start, band in schedule:
        when = start if isinstance(start, time) else time.fromisoformat(str(start))
        number = BANDS.get(band.lower()) if isinstance(band, str) else band
        if number not in (1, 2, 3, 4):
            raise ValueError(f"TOU band must be 1..4 or sharp/peak/flat/valley, got {band!r}")
        out.append((timedelta(hours=when.hour, minutes=when.minute, seconds=when.second),
                    number))
    if not out:
        raise ValueError("a TOU schedule needs at least one (time, band) entry")
    out.sort()
    return out


def _dec(value: Decimal | str | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


class Dlt645Simulator(SimulatedMeter):
    """A DL/T 645-2007 prepaid meter that answers frames computed from its state."""

    protocol = PROTOCOL

    def __init__(
        self,
        address: str,
        clock: SimClock | None = None,
        load: LoadProfile | None = None,
        *,
        three_phase: bool = False,
        energy: Decimal | str | int = 0,
        tou_schedule: Sequence[tuple[str | time, int | str]] = DEFAULT_TOU,
        price: Decimal | str | None = None,
        balance: Decimal | str | int = 0,
        passwords: Mapping[int, str | int] | None = None,
        nominal_voltage: Decimal | str = "220.0",
        power_factor: Decimal | str = "1.000",
        frequency: Decimal | str = "50.00",
        over_voltage: Decimal | str = "264.0",
        under_voltage: Decimal | str = "176.0",
        over_current: Decimal | str = "60.000",
        trip_delay: float | Decimal = 0.0,
        restore_delay: float | Decimal = 1800.0,
        max_reply_data: int = 200,
        max_broadcast_correction: float | Decimal | None = MAX_BROADCAST_CORRECTION,
        version: str = "2007",
        constant: int = 1200,
        load_interval: int = 0,
    ) -> None:
        super().__init__(address, clock, load)
        if version not in ("2007", "1997"):
            raise ValueError(f"a DL/T 645 simulator speaks 2007 or 1997, not {version!r}")
        self.version = version
        self.constant = int(constant)  # imp/kWh (1997 DI C030)
        self.three_phase = three_phase
        self.phases = 3 if three_phase else 1
        self.tou = parse_schedule(tou_schedule)
        self.energy: list[Decimal] = [_dec(energy), *(Decimal(0),) * 4]  # total, T1..T4
        self.export = Decimal(0)
        self.price = _dec(price) if price is not None else None
        self.balance = _dec(balance)
        self.purchases = 0
        self.purchased = Decimal(0)
        self.passwords = {int(level): str(secret).zfill(6) for level, secret in (
            passwords if passwords is not None else {2: "000000", 4: "000000"}).items()}
        self.voltages = [_dec(nominal_voltage)] * self.phases
        self.current_override: list[Decimal | None] = [None] * self.phases
        self.lost_phases: set[int] = set()
        self.power_factor = _dec(power_factor)
        self.frequency = _dec(frequency)
        self.over_voltage = _dec(over_voltage)
        self.under_voltage = _dec(under_voltage)
        self.over_current = _dec(over_current)
        self.battery_low = False
        self.trip_delay = float(trip_delay)  # simulated seconds (YAML may give Decimal)
        self.restore_delay = float(restore_delay)
        self.max_reply_data = max(int(max_reply_data), 6)
        self.max_broadcast_correction = (float(max_broadcast_correction)
                                         if max_broadcast_correction is not None else None)
        # relay state
        self.relay_closed = True
        self.trip_commanded = False
        self.protected = False
        self.alarm = False
        self.awaiting_button = False
        self._trip_at: datetime | None = None
        self._restore_at: datetime | None = None
        self._restore_mode: RelayAction | None = None
        # clock, parameters, follow-up frames, freezes
        self.clock_offset = timedelta()
        self._last = self.clock.now()
        self.params: dict[int, Any] = {
            0x04000703: 0x08,  # RS-485 at 2400 bit/s
            0x04001001: Decimal("20.00"),  # alarm amount 1
            0x04001002: Decimal("5.00"),  # alarm amount 2
            **{0x04050100 + band: self.price for band in range(1, 5) if self.price is not None},
        }
        self.params.update(self._tou_params())
        # DIs whose writes the meter acknowledges but does not keep (a faulty meter, tests)
        self.faulty_writes: set[int] = set()
        # DIs this meter does not keep at all: reads and writes answer ERR 02 (tests)
        self.unsupported: set[int] = set()
        # daily freezes, newest first: (YYMMDDhhmm as the meter sends it, total, T1..T4)
        self.daily_frozen: list[tuple[str, list[Decimal]]] = []
        # event log: kind -> (count, records newest first as the meter sends them)
        self.event_log: dict[str, tuple[int, list[bytes]]] = {k: (0, []) for k in BY_KIND}
        self._next_freeze = self._midnight_after(self._last)
        # load records (负荷记录), oldest first: every ``load_interval`` minutes (0: none)
        self.load_interval = int(load_interval)
        self.load_records: list[LoadRecord] = []
        self._next_load = self._interval_after(self._last)
        self.freezes: list[tuple[str, datetime, Decimal]] = []
        self._follow: tuple[int, bytes, int] | None = None
        self._handlers: dict[int, Callable[[Frame], bytes]] = {
            Function.READ: self._on_read,
            Function.READ_FOLLOW_UP: self._on_follow_up,
            Function.READ_ADDRESS: self._on_read_address,
            Function.WRITE: self._on_write,
            Function.FREEZE: self._on_freeze,
            Function.CHANGE_BAUD: self._on_change_baud,
            Function.RELAY_CONTROL: self._on_relay,
        }
        self._v1997 = Answers1997(self)

    # --- the Simulator contract ----------------------------------------------------------

    def new_parser(self) -> Dlt645Parser:
        """A parser for requests."""
        return Dlt645Parser()

    def handle_frame(self, frame: Any) -> bytes | None:
        """Answer a request addressed to this meter (None: not for me, or a broadcast)."""
        if not isinstance(frame, Frame) or frame.is_reply:
            return None
        function = frame.function
        if frame.address == BROADCAST:
            if self.version == "1997" and function == Function1997.WRITE_ADDRESS:
                return self._v1997.answer(frame)  # one meter on the bus: it takes the address
            self._on_broadcast(frame)
            return None
        if frame.address != self.address and not (
                function in _WILDCARD_FUNCTIONS and address_matches(frame.address,
                                                                    self.address)):
            return None
        self.requests += 1
        self._advance()
        if self.version == "1997":
            return self._v1997.answer(frame)
        handler = self._handlers.get(function)
        if handler is None:
            return error_reply(self.address, function, ERR_OTHER)
        return handler(frame)

    # --- simulated physics ---------------------------------------------------------------

    def meter_now(self) -> datetime:
        """The meter's own clock: naive, site-local."""
        return self._meter_time(self.clock.now())

    def _meter_time(self, sim: datetime) -> datetime:
        return (sim + self.clock_offset).astimezone(site_time_zone()).replace(tzinfo=None)

    def _sim_time(self, meter: datetime) -> datetime:
        return meter.replace(tzinfo=site_time_zone()) - self.clock_offset

    def set_meter_time(self, meter_time: datetime) -> None:
        """Set the meter's clock (as a time-sync or a date/time write does)."""
        self._advance()
        now = self.clock.now()
        self.clock_offset = meter_time.replace(tzinfo=site_time_zone()) - now
        self._last = now
        self._next_freeze = self._midnight_after(now)
        self._next_load = self._interval_after(now)

    def _interval_after(self, sim: datetime) -> datetime | None:
        """The sim time of the meter clock's next load-record boundary (None: it keeps none)."""
        if self.load_interval <= 0:
            return None
        local = self._meter_time(sim)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        step = timedelta(minutes=self.load_interval)
        return self._sim_time(midnight + step * ((local - midnight) // step + 1))

    def _record_load(self) -> None:
        """A load record (负荷记录) at the boundary: the forward active total then."""
        assert self._next_load is not None
        local = self._meter_time(self._next_load)
        self.load_records.append(LoadRecord(local, self.energy[0].quantize(
            _CENT, rounding=ROUND_DOWN)))
        del self.load_records[:-LOAD_RECORDS]
        self._next_load = self._interval_after(self._next_load + timedelta(seconds=1))

    def _midnight_after(self, sim: datetime) -> datetime:
        """The sim time of the meter clock's next midnight (its daily freeze)."""
        local = self._meter_time(sim)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return self._sim_time(midnight)

    def _freeze_day(self) -> None:
        """The daily freeze (日冻结) at the meter's midnight: its registers then."""
        local = self._meter_time(self._next_freeze)
        values = [e.quantize(_CENT, rounding=ROUND_DOWN) for e in self.energy]
        self.daily_frozen.insert(0, (local.strftime("%y%m%d%H%M"), values))
        del self.daily_frozen[DAILY_FROZEN_RECORDS:]
        self._next_freeze = self._midnight_after(self._next_freeze + timedelta(seconds=1))

    # --- the meter's own TOU tables (written by the hub, read back) -----------------

    def _tou_params(self) -> dict[int, Any]:
        """Set 1 holding the simulator's schedule, one zone, no switch time, no rest day."""
        day = [f"{int(start.total_seconds()) // 3600:02d}"
               f"{int(start.total_seconds()) // 60 % 60:02d}{band:02d}" for start, band in self.tou]
        return {
            DI_ZONE_COUNT: Decimal(1), DI_TABLE_COUNT: Decimal(1),
            DI_SEGMENT_COUNT: Decimal(len(day)), DI_RATE_COUNT: Decimal(4),
            zone_table_di(1): ["010101"], day_table_di(1, 1): day,
            DI_REST_WORD: 0x7F, DI_REST_TABLE: Decimal(1), DI_HOLIDAY_COUNT: Decimal(0),
            DI_ZONE_SWITCH: "0000000000", DI_DAY_SWITCH: "0000000000",
            0x04000306: Decimal(1), 0x04000307: Decimal(1),  # CT / PT ratios kept
            0x04000E03: self.over_voltage.quantize(Decimal("0.1")),
            0x04000E04: self.under_voltage.quantize(Decimal("0.1")),
            DI_OVER_CURRENT: self.over_current.quantize(Decimal("0.1")),
            DI_OVER_CURRENT_DELAY: Decimal(60),
        }

    def running_sets(self, local: datetime | None = None) -> tuple[int, int]:
        """(zone set, day-table set) at meter time ``local``: set 2 from its switch time."""
        local = local or self.meter_now()
        out = []
        for di in (DI_ZONE_SWITCH, DI_DAY_SWITCH):
            try:
                switch = datetime.strptime(str(self.params.get(di)), "%y%m%d%H%M")
            except ValueError:
                switch = None
            out.append(2 if switch is not None and local >= switch else 1)
        return out[0], out[1]

    def day_schedule(self, local: datetime) -> list[tuple[timedelta, int]]:
        """The (start, rate) segments the meter applies on the day of ``local``, from its
        tables (its built-in schedule if they make no sense)."""
        zone_set, day_set = self.running_sets(local)
        try:
            holiday = self._holiday_table(local)
            count = int(self.params[DI_ZONE_COUNT])
            zones = [(int(z[:2]), int(z[2:4]), int(z[4:]))
                     for z in self.params[zone_table_di(zone_set)][:count]]
            table = zones[-1][2]
            for month, day, number in zones:
                if (month, day) <= (local.month, local.day):
                    table = number
            if not self.params[DI_REST_WORD] >> (local.isoweekday() % 7) & 1:
                table = int(self.params[DI_REST_TABLE])
            table = holiday or table  # a public holiday's table comes first
            return [(timedelta(hours=int(e[:2]), minutes=int(e[2:4])), int(e[4:]))
                    for e in self.params[day_table_di(day_set, table)]]
        except (KeyError, ValueError, IndexError, TypeError):
            return self.tou

    def _holiday_table(self, local: datetime) -> int | None:
        """The day table of ``local``'s date when it is in the holiday list (公共假日)."""
        wanted = local.strftime("%y%m%d")
        for n in range(1, int(self.params.get(DI_HOLIDAY_COUNT, 0)) + 1):
            entry = str(self.params.get(holiday_di(n), ""))
            if entry[:6] == wanted:
                return int(entry[6:])
        return None

    def _tou_segment(self, sim: datetime) -> tuple[int, datetime]:
        """The band at ``sim`` and the sim time at which the band next changes."""
        local = self._meter_time(sim)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        since = local - midnight
        schedule = self.day_schedule(local)
        band = schedule[-1][1]
        boundary = midnight + timedelta(days=1)
        for start, entry_band in schedule:
            if start <= since:
                band = entry_band
            elif start > since:
                boundary = midnight + start
                break
        for switch_di in (DI_ZONE_SWITCH, DI_DAY_SWITCH):  # a set switch changes the band
            try:
                switch = datetime.strptime(str(self.params.get(switch_di)), "%y%m%d%H%M")
            except ValueError:
                continue
            if local < switch < boundary:
                boundary = switch
        return band, self._sim_time(boundary)

    def _active_fraction(self) -> Decimal:
        active = self.phases - len(self.lost_phases)
        return Decimal(active) / Decimal(self.phases)

    def _accumulate(self, start: datetime, end: datetime) -> None:
        if end <= start or not self.relay_closed:
            return
        fraction = self._active_fraction()
        if not fraction:
            return
        cursor = start
        while cursor < end:
            band, boundary = self._tou_segment(cursor)
            stop = min(end, boundary) if boundary > cursor else end
            amount = self.load.amount_between(cursor, stop) * fraction
            self.energy[0] += amount
            if band <= 4:  # rates 5..63 count in the total only
                self.energy[band] += amount
            if self.price is not None:
                self.balance -= amount * self.price
            cursor = stop

    def _next_event(self) -> datetime | None:
        times = [t for t in (self._trip_at, self._restore_at, self._next_freeze,
                             self._next_load)
                 if t is not None]
        return min(times) if times else None

    def _fire_due(self, when: datetime) -> None:
        if self._next_freeze <= when:
            self._freeze_day()
        if self._next_load is not None and self._next_load <= when:
            self._record_load()
        if self._trip_at is not None and self._trip_at <= when:
            self._trip_at = None
            self.relay_closed = False
        if self._restore_at is not None and self._restore_at <= when:
            self._restore_at = None
            self.trip_commanded = False
            if self._restore_mode is RelayAction.TRIP_RESTORE_CLOSE:
                self.relay_closed = True
            else:
                self.awaiting_button = True
            self._restore_mode = None

    def _advance(self) -> datetime:
        """Bring energy, balance and the relay up to the simulation clock's now."""
        now = self.clock.now()
        if now < self._last:  # the simulation clock was set back
            self._last = now
            self._next_freeze = self._midnight_after(now)
            self._next_load = self._interval_after(now)
            return now
        while True:
            self._fire_due(self._last)
            event = self._next_event()
            if event is None or event > now:
                self._accumulate(self._last, now)
                self._last = now
                return now
            self._accumulate(self._last, event)
            self._last = max(event, self._last)

    def phase_values(self) -> list[tuple[Decimal, Decimal, Decimal]]:
        """(voltage V, current A, active power kW) of each phase, now."""
        now = self._advance()
        rate = self.load.rate_at(now) if self.relay_closed else Decimal(0)
        share = rate / self.phases
        pf = abs(self.power_factor) or Decimal(1)
        out = []
        for index in range(self.phases):
            lost = index in self.lost_phases
            volts = Decimal(0) if lost else self.voltages[index]
            power = Decimal(0) if lost else share
            override = self.current_override[index]
            if not self.relay_closed:
                amps = Decimal(0)
            elif override is not None:
                amps = override
            elif not volts:
                amps = Decimal(0)
            else:
                amps = power * 1000 / (volts * pf)
            out.append((volts, amps, power))
        return out

    # --- injections and tenant actions ---------------------------------------------------

    def set_voltage(self, volts: Decimal | str, phase: str = "a") -> None:
        """Inject a voltage (over-/under-voltage tests)."""
        self._advance()
        self.voltages[self._phase(phase)] = _dec(volts)

    def set_current(self, amps: Decimal | str | None, phase: str = "a") -> None:
        """Inject a current (over-current tests); None returns to the load's current."""
        self.current_override[self._phase(phase)] = None if amps is None else _dec(amps)

    def lose_phase(self, phase: str) -> None:
        """Phase loss: no voltage, no load on that phase."""
        self._advance()
        self.lost_phases.add(self._phase(phase))

    def restore_phase(self, phase: str) -> None:
        """End a phase loss."""
        self._advance()
        self.lost_phases.discard(self._phase(phase))

    def top_up(self, amount: Decimal | str) -> None:
        """A purchase: raises the balance and the purchase count."""
        self._advance()
        value = _dec(amount)
        self.balance += value
        self.purchased += value
        self.purchases += 1

    def log_event(self, kind: str, started: datetime, ended: datetime | None = None,
                  operator: str = "00000000") -> None:
        """Record an event in the meter's own log (cover opened, power down...)."""
        spec = BY_KIND[kind]
        count, records = self.event_log.get(kind, (0, []))
        records.insert(0, encode_record(spec, started, ended, operator))
        self.event_log[kind] = (count + 1, records[:MAX_RECORDS])

    def press_button(self) -> None:
        """The tenant presses the button after a close-allowed: the relay closes."""
        self._advance()
        if self.awaiting_button and not self.trip_commanded:
            self.awaiting_button = False
            self.relay_closed = True

    def _phase(self, phase: str) -> int:
        index = _PHASES.find(phase.lower())
        if index < 0 or index >= self.phases:
            raise ValueError(f"meter {self.address} has no phase {phase!r}")
        return index

    # --- values --------------------------------------------------------------------------

    @property
    def registers(self) -> list[Decimal]:
        """Import energy total, T1..T4 as the meter shows them (kWh, 2 decimals, truncated)."""
        self._advance()
        return [e.quantize(_CENT, rounding=ROUND_DOWN) for e in self.energy]

    def status_word(self, n: int) -> int:
        """Run status word ``n`` from the current state."""
        if n == 1:
            return encode_flags(WORD1_BITS, {"clock_battery_low": self.battery_low})
        if n == 3:
            self._advance()
            zone_set, day_set = self.running_sets()
            return (day_set == 2) | (zone_set == 2) << 5 | encode_word3(
                relay_open=not self.relay_closed, trip_commanded=self.trip_commanded,
                pre_trip_alarm=self.alarm or self._trip_at is not None,
                protected=self.protected,
                meter_type="money_prepaid" if self.price is not None else "non_prepaid")
        if 4 <= n <= 6:
            index = n - 4
            if index >= self.phases:
                return 0
            volts, amps, _power = self.phase_values()[index]
            lost = index in self.lost_phases
            return encode_flags(PHASE_FAULT_BITS, {
                "over_voltage": volts > self.over_voltage,
                "under_voltage": not lost and volts < self.under_voltage,
                "phase_break": lost,
                "over_current": abs(amps) > self.over_current,
            })
        return 0

    def _energy_value(self, di: int) -> Any:
        kind, tariff, back = di >> 16 & 0xFF, di >> 8 & 0xFF, di & 0xFF
        if back or kind > 2 or (tariff > 4 and tariff != 0xFF):
            return None
        # reverse (export) energy: the total a test or the demo sets, no tariff split
        registers = ([self.export, *[Decimal("0.00")] * 4] if kind == 2 else self.registers)
        if kind == 0:  # combined active: forward minus reverse (a net meter's combination
            registers = [registers[0] - self.export, *registers[1:]]  # word); signed
        return registers if tariff == 0xFF else registers[tariff]

    def _instant_value(self, di: int, spec: DataItem) -> Any:
        quantity, phase = di >> 16 & 0xFF, di >> 8 & 0xFF
        if di & 0xFF or quantity > 7:
            return None
        if phase == 0xFF:
            if not self.three_phase:
                return None
            phases = range(1, 4) if spec.count == 3 else range(4)
            return [self._instant(quantity, p) for p in phases]
        if phase > self.phases:
            return None
        return self._instant(quantity, phase)

    def _instant(self, quantity: int, phase: int) -> Decimal:
        values = self.phase_values()
        pf = abs(self.power_factor) or Decimal(1)
        if phase == 0:
            power = sum((p for _v, _a, p in values), Decimal(0))
            volts, amps = Decimal(0), Decimal(0)
        else:
            volts, amps, power = values[phase - 1]
        if quantity == 1:
            return volts
        if quantity == 2:
            return amps
        if quantity == 3:
            return power
        if quantity == 4:
            return (power * (1 - pf * pf).sqrt() / pf) if power else Decimal(0)
        if quantity == 5:
            return power / pf
        if quantity == 6:
            return self.power_factor
        return Decimal(0)  # phase angle: a resistive load

    def _param_value(self, di: int) -> Any:
        meter = self.meter_now()
        fixed: dict[int, Callable[[], Any]] = {
            DI_DATE: lambda: DateWeek(meter.date(), weekday_of(meter.date())),
            DI_TIME: lambda: meter.time().replace(microsecond=0),
            0x04000401: lambda: self.address,
            0x04000402: lambda: self.params.get(0x04000402, self.address),
            0x02800002: lambda: self.frequency,
            0x02800007: lambda: Decimal("25.0"),
            0x02800008: lambda: Decimal("3.60"),
            DI_STATUS_BLOCK: lambda: [self.status_word(n) for n in range(1, 8)],
        }
        if di in fixed:
            return fixed[di]()
        if di in STATUS_WORD_DIS:
            return self.status_word(STATUS_WORD_DIS.index(di) + 1)
        if self.price is not None:
            self._advance()
            prepaid: dict[int, Callable[[], Any]] = {
                0x00900200: lambda: max(self.balance, Decimal(0)),
                0x00900201: lambda: max(-self.balance, Decimal(0)).quantize(
                    _CENT, rounding=ROUND_CEILING),
                0x03330201: lambda: Decimal(self.purchases),
                0x03330601: lambda: self.purchased,
                0x02800020: lambda: self.price,
            }
            if di in prepaid:
                return prepaid[di]()
        if di in self.params:
            return self.params[di]
        for kind, (count, records) in self.event_log.items():
            log = BY_KIND[kind]
            if di == log.count_di:
                return Decimal(count)
            if log.record_base < di <= log.record_base + len(records):
                return list(records[di - log.record_base - 1])
        if di >> 16 == 0x0506 and di >> 8 & 0xFF in (0, 1):
            n = di & 0xFF
            if not 1 <= n <= len(self.daily_frozen):
                return None
            digits, values = self.daily_frozen[n - 1]
            return digits if di >> 8 & 0xFF == 0 else values
        spec = DATA_ITEMS.get(di)
        if spec is not None and spec.writable:
            return spec.decode(bytes(spec.size))  # a zeroed parameter (or block)
        return None

    def value_bytes(self, di: int) -> bytes | None:
        """The value bytes of a DI as this meter would send them (None: unsupported)."""
        spec = DATA_ITEMS.get(di)
        value = self.value_of(di)
        if spec is None or value is None:
            return None
        if spec.fmt.kind == "number":
            fmt = spec.fmt
            value = ([_fit(v, fmt, ROUND_DOWN) for v in value] if isinstance(value, list)
                     else _fit(value, fmt, ROUND_DOWN))
        return spec.encode(value)

    def value_of(self, di: int) -> Any:
        """The value of a DL/T 645-2007 DI now, unrounded (None: unsupported)."""
        spec = DATA_ITEMS.get(di)
        if spec is None:
            return None
        group = di >> 24
        if group == 0x00 and di >> 16 & 0xFF <= 0x04:
            value = self._energy_value(di)
        elif group == 0x02 and di >> 16 & 0xFF <= 0x07:
            value = self._instant_value(di, spec)
        else:
            value = self._param_value(di)
        return value

    # --- frame handlers ------------------------------------------------------------------

    def authorised(self, level: int, password: str) -> bool:
        """Whether ``password`` is this meter's password of ``level``."""
        expected = self.passwords.get(level)
        return expected is not None and expected == password

    def _authorised(self, credentials: Credentials) -> bool:
        return self.authorised(credentials.level, credentials.password)

    def _on_read(self, frame: Frame) -> bytes:
        if len(frame.data) < 4:
            return error_reply(self.address, Function.READ, ERR_OTHER)
        di = int.from_bytes(frame.data[:4], "little")
        value = (None if di in self.unsupported else self._load_blocks(frame.data[4:])
                 if di == DI_LOAD_RECORDS else self.value_bytes(di))
        if value is None:
            return error_reply(self.address, Function.READ, ERR_NO_DATA)
        room = self.max_reply_data - 4
        if len(value) <= room:
            self._follow = None
            return read_reply(self.address, di, value)
        self._follow = (di, value[room:], 1)
        return read_reply(self.address, di, value[:room], follow_up=True)

    def _load_blocks(self, extra: bytes) -> bytes | None:
        """The load records asked for (N from a time on), None when there are none."""
        try:
            blocks, start = parse_request(extra)
        except Dlt645Error:
            return None
        found = [r for r in self.load_records if r.time >= start][:blocks]
        return b"".join(encode_block(r) for r in found) or None

    def _on_follow_up(self, frame: Frame) -> bytes:
        if len(frame.data) != 5:
            return error_reply(self.address, Function.READ_FOLLOW_UP, ERR_OTHER)
        di, seq = int.from_bytes(frame.data[:4], "little"), frame.data[4]
        if self._follow is None or self._follow[0] != di or self._follow[2] != seq:
            return error_reply(self.address, Function.READ_FOLLOW_UP, ERR_NO_DATA)
        rest = self._follow[1]
        room = self.max_reply_data - 5
        chunk, rest = rest[:room], rest[room:]
        self._follow = (di, rest, seq + 1) if rest else None
        return follow_up_reply(self.address, di, chunk, seq, follow_up=bool(rest))

    def _on_read_address(self, frame: Frame) -> bytes:
        return address_reply(self.address)

    def _on_write(self, frame: Frame) -> bytes:
        try:
            command = parse_write(frame)
        except Dlt645Error:
            return error_reply(self.address, Function.WRITE, ERR_OTHER)
        if not self._authorised(command.credentials):
            return error_reply(self.address, Function.WRITE, ERR_PASSWORD)
        spec = DATA_ITEMS.get(command.di)
        if spec is None or command.di in self.unsupported:
            return error_reply(self.address, Function.WRITE, ERR_NO_DATA)
        if not spec.writable:
            return error_reply(self.address, Function.WRITE, ERR_PASSWORD)
        try:
            value = spec.decode(command.value)
        except Dlt645Error:
            return error_reply(self.address, Function.WRITE, ERR_OTHER)
        if command.di in self.faulty_writes:
            return ack_reply(self.address, Function.WRITE)  # acknowledged, not kept
        meter = self.meter_now()
        if command.di == DI_OVER_CURRENT:
            self.over_current = value
        if command.di == 0x04000E03:
            self.over_voltage = value
        elif command.di == 0x04000E04:
            self.under_voltage = value
        if command.di == DI_DATE:
            self.set_meter_time(datetime.combine(value.date, meter.time()))
        elif command.di == DI_TIME:
            self.set_meter_time(datetime.combine(meter.date(), value))
        else:
            self.params[command.di] = value
        return ack_reply(self.address, Function.WRITE)

    def _on_freeze(self, frame: Frame) -> bytes:
        try:
            at = parse_freeze(frame)
        except Dlt645Error:
            return error_reply(self.address, Function.FREEZE, ERR_OTHER)
        self.freezes.append((at, self.meter_now(), self.registers[0]))
        return ack_reply(self.address, Function.FREEZE)

    def _on_change_baud(self, frame: Frame) -> bytes:
        if len(frame.data) != 1 or frame.data[0] not in BAUD_WORD.values():
            return error_reply(self.address, Function.CHANGE_BAUD, ERR_BAUD)
        return ack_reply(self.address, Function.CHANGE_BAUD, frame.data)

    def _on_relay(self, frame: Frame) -> bytes:
        refuse: Callable[[int], bytes] = lambda err: error_reply(  # noqa: E731
            self.address, Function.RELAY_CONTROL, err)
        try:
            command = parse_relay(frame)
        except Dlt645Error:
            return refuse(ERR_OTHER)
        if not self._authorised(command.credentials):
            return refuse(ERR_PASSWORD)
        if command.valid_until is None or command.valid_until < self.meter_now():
            return refuse(ERR_OTHER)  # command expired (or no valid end time)
        try:
            action = RelayAction(command.action)
        except ValueError:
            return refuse(ERR_OTHER)
        if action in (RelayAction.TRIP, RelayAction.TRIP_RESTORE_CLOSE,
                      RelayAction.TRIP_RESTORE_ALLOWED):
            if self.protected:
                return refuse(ERR_OTHER)  # 保电: trips are refused until released
            self._trip(action)
        elif action in (RelayAction.CLOSE, RelayAction.CLOSE_ALLOWED):
            self.trip_commanded = False
            self._trip_at = self._restore_at = None
            self._restore_mode = None
            if action is RelayAction.CLOSE:
                self.relay_closed = True
                self.awaiting_button = False
            elif not self.relay_closed:
                self.awaiting_button = True
        elif action in (RelayAction.ALARM_ON, RelayAction.ALARM_OFF):
            self.alarm = action is RelayAction.ALARM_ON
        else:
            self.protected = action is RelayAction.PROTECT_ON
            if self.protected:
                self._trip_at = None
        return ack_reply(self.address, Function.RELAY_CONTROL)

    def _trip(self, action: RelayAction) -> None:
        now = self.clock.now()
        self.trip_commanded = True
        self.awaiting_button = False
        if self.trip_delay > 0:
            self._trip_at = now + timedelta(seconds=self.trip_delay)
        else:
            self._trip_at = None
            self.relay_closed = False
        if action is RelayAction.TRIP:
            self._restore_at = None
            self._restore_mode = None
        else:
            opened = self._trip_at or now
            self._restore_at = opened + timedelta(seconds=self.restore_delay)
            self._restore_mode = action

    def _on_broadcast(self, frame: Frame) -> None:
        if self.version == "1997" and frame.function != Function.BROADCAST_TIME:
            return  # a 1997 meter knows no broadcast freeze
        if frame.function == Function.BROADCAST_TIME:
            try:
                target = parse_time_sync(frame)
            except Dlt645Error:
                return
            limit = self.max_broadcast_correction
            if limit is not None and abs((target - self.meter_now()).total_seconds()) > limit:
                _LOGGER.debug("Simulated meter %s: broadcast correction beyond %ss ignored",
                              self.address, limit)
                return
            self.set_meter_time(target)
        elif frame.function == Function.FREEZE:
            try:
                at = parse_freeze(frame)
            except Dlt645Error:
                return
            self.freezes.append((at, self.meter_now(), self.registers[0]))
