"""Employment contracts of in-house advisers, and the teams' mix of them.

`[contracts.ID]` in the model file (docs/scenario.md) defines a contract: its paid shift
length(s), days and hours a week (or a cycle of weeks with the hours and days of each), the
weekdays it may work and an optional daily window (earliest start, latest end). The contract
`full-time` is always the one `[shifts]` describes. `[teams.ID] contracts = {ID = count, ...}`
splits a team's headcount (providers.csv) between contracts; a team without it has
`headcount` advisers on `full-time`.

The allocation model's in-house unit is a *group*: one team and one contract
(`groups(scenario)`); a team without a mix is one group keyed by the team's own id, so a
scenario without contracts builds exactly the model it built before.

Paid days off (closed by the calendar though their weekday opens): a contract loses one day
of its week per such date among its own weekdays (at most its days that week), each worth
W/L hours (`week_terms`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_ID = "full-time"
CONTRACT_KEYS = {"paid_hours": "floats", "days_per_week": "int", "weekly_hours": "float",
                 "weekdays": "strs", "earliest_start": "time", "latest_end": "time",
                 "cycle_weekly_hours": "floats", "cycle_days_per_week": "floats",
                 "cycle_start": "date", "description": "str"}


@dataclasses.dataclass(frozen=True)
class Contract:
    """An adviser's contract.

    paid_hours: allowed paid shift lengths (hours); weekly_hours / days_per_week: per week of
    the cycle (one entry when there is no cycle), hours and shifts; weekdays: 0 = Monday..6;
    earliest_start / latest_end: minutes after midnight (None: the opening hours);
    cycle_start: the date cycle week 1 starts (None: the horizon's first day)."""

    id: str
    paid_hours: tuple = (7.0,)
    days: tuple = (5,)
    hours: tuple = (35.0,)
    weekdays: tuple = tuple(range(7))
    earliest_start: int | None = None
    latest_end: int | None = None
    cycle_start: dt.date | None = None

    @property
    def shift_hours(self) -> float:
        return float(max(self.paid_hours))

    @property
    def days_per_week(self) -> int:
        """Days of cycle week 1 (the only week without a cycle)."""
        return int(self.days[0])

    @property
    def weekly_hours(self) -> float:
        """Average paid hours a week over the cycle: what the adviser is paid each week."""
        return float(sum(self.hours)) / len(self.hours)

    @property
    def cycle_weeks(self) -> int:
        return len(self.hours)

    def cycle_week(self, week_start: dt.date, horizon_start: dt.date) -> int:
        """Index 0..N-1 of the cycle week that starts `week_start`."""
        first = _day(self.cycle_start or horizon_start)
        return ((_day(week_start) - first).days // 7) % self.cycle_weeks

    def in_window(self, start_min: int, end_min: int) -> bool:
        """Whether a shift [start, end) (minutes after its day's midnight) is in the window."""
        return ((self.earliest_start is None or start_min >= self.earliest_start)
                and (self.latest_end is None or end_min <= self.latest_end))

    def as_dict(self) -> dict:
        """JSON-ready, as a run's manifest records it (times HH:MM, weekdays by name)."""
        hhmm = lambda m: None if m is None else f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
        return {"id": self.id, "paid_hours": list(self.paid_hours),
                "shift_hours": self.shift_hours, "days_per_week": self.days_per_week,
                "weekly_hours": self.weekly_hours,
                "cycle_weekly_hours": [float(h) for h in self.hours],
                "cycle_days_per_week": [int(d) for d in self.days],
                "weekdays": [WEEKDAY_NAMES[d] for d in self.weekdays],
                "earliest_start": hhmm(self.earliest_start), "latest_end": hhmm(self.latest_end),
                "cycle_start": None if self.cycle_start is None else self.cycle_start.isoformat()}


def _day(x) -> dt.date:
    """A date from a date, datetime or pandas Timestamp."""
    return dt.date(x.year, x.month, x.day)


@dataclasses.dataclass(frozen=True)
class Group:
    """The allocation's in-house unit: advisers of one team on one contract (and, for a team
    of the advisers table, one skill set).

    key: the team id when the team has one contract from `[shifts]` (no mix, no advisers
    table), else "TEAM__CONTRACT" (plus "__P1+P2" for a skill subset); first: the number of
    the group's first generated adviser in the team (ids TEAM-0001.. are numbered across the
    team's groups in the mix's order)."""

    key: str
    team: str
    contract: Contract
    count: int | None  # None: the team's headcount (a team without a mix)
    first: int = 1
    skills: tuple | None = None  # plateaux the group serves (None: the team's)
    members: tuple = ()  # named advisers (the advisers table), in table order
    leave: tuple = ()  # each member's unavailable dates (frozensets)


def default_contract(shift_rules) -> Contract:
    """The model's `[shifts]` contract: `full-time`, its lengths, days and hours a week."""
    return Contract(DEFAULT_ID, tuple(float(h) for h in shift_rules.paid_hours),
                    (int(shift_rules.days_per_week),), (float(shift_rules.weekly_hours),))


def groups(scenario) -> list[Group]:
    """The in-house groups, teams in providers order, then the team's mix in file order."""
    prov = scenario.providers
    mixes = getattr(scenario, "team_contracts", None) or {}
    contracts = getattr(scenario, "contracts", None) or {}
    named = getattr(scenario, "advisers", None)
    out = []
    for k in prov.index[prov["kind"] == "inhouse"]:
        if named is not None and (named["team"] == k).any():
            out += _named_groups(named[named["team"] == k], k, tuple(prov.at[k, "plateaux"]),
                                 contracts)
            continue
        if k not in mixes:
            out.append(Group(k, k, contracts.get(DEFAULT_ID) or default_contract(scenario.shifts),
                             None))
            continue
        first = 1
        for cid, n in mixes[k].items():
            out.append(Group(f"{k}__{cid}", k, contracts[cid], int(n), first))
            first += int(n)
    return out


def _named_groups(rows, team: str, plateaux: tuple, contracts: dict) -> list[Group]:
    """A team's groups from the advisers table: one per (contract, skills), in table order."""
    out = []
    for (cid, skills), g in rows.groupby(["contract", "skills"], sort=False):
        key = f"{team}__{cid}" + ("" if skills == plateaux else "__" + "+".join(skills))
        out.append(Group(key, team, contracts[cid], len(g), skills=skills,
                         members=tuple(g["id"]), leave=tuple(g["unavailable"])))
    return out


def member_weeks(group: Group, scenario, start: dt.date, week: int) -> dict | None:
    """A named group's week with leave, or None when no member is on leave that week:
    hours and days (totals over members), on-leave count per date (open dates on the
    contract's weekdays), and classes {frozenset of leave dates: (advisers, days each)}."""
    from ..calendar import week_dates

    start = _day(start)
    dates = week_dates(start, week)
    c = group.contract
    i = c.cycle_week(dates[0], start)
    w, n_days = float(c.hours[i]), int(c.days[i])
    cal = paid_days_off(c, scenario, dates)
    if not any(lv.intersection(dates) for lv in group.leave):
        return None
    out = {"hours": 0.0, "days": 0, "per_date": {}, "classes": {}}
    for lv in group.leave:
        mine = frozenset(d for d in dates if d in lv and d.weekday() in c.weekdays
                         and scenario.opening_on(d) is not None)
        off = min(cal + len(mine), n_days)
        out["hours"] += w - off * w / n_days if n_days else 0.0
        out["days"] += n_days - off
        for d in mine:
            out["per_date"][d] = out["per_date"].get(d, 0) + 1
        n, k = out["classes"].get(mine, (0, n_days - off))
        out["classes"][mine] = (n + 1, k)
    return out


def week_terms(contract: Contract, scenario, start: dt.date, week: int) -> tuple[float, int]:
    """(hours, days) the contract asks in planning week `week` of a horizon from `start`: its
    cycle week's, less W/L hours and one day per date the calendar closes though its weekday
    opens, among the contract's weekdays (at most its days)."""
    from ..calendar import week_dates

    start = _day(start)
    dates = week_dates(start, week)
    c = contract.cycle_week(dates[0], start)
    w, n_days = float(contract.hours[c]), int(contract.days[c])
    off = min(paid_days_off(contract, scenario, dates), n_days)
    return (w - off * w / n_days if n_days else 0.0, n_days - off)


def paid_days_off(contract: Contract, scenario, dates) -> int:
    """Dates among `dates` on the contract's weekdays that the calendar closes though their
    weekday opens (not capped)."""
    return sum(1 for d in dates if d.weekday() in contract.weekdays
               and scenario.opening_minutes(d.weekday()) is not None
               and scenario.opening_on(d) is None)


def week_hours_list(contract: Contract, scenario, start: dt.date, weeks: int) -> list:
    """The contract's (hours, days) of each planning week, as the manifest records them."""
    return [list(week_terms(contract, scenario, start, w)) for w in range(weeks)]


def parse(section: dict, shift_rules, rules, need, slot: int) -> dict:
    """`[contracts]` checked (types already checked against the schema): id -> Contract,
    `full-time` (from `[shifts]`) first. need(cond, message, field) records one-line errors."""
    out = {DEFAULT_ID: default_contract(shift_rules)}
    for cid, c in section.items():
        field = f"contracts.{cid}"
        if not need(cid != DEFAULT_ID, f"'{DEFAULT_ID}' is the [shifts] contract: give this "
                    "contract another id", field):
            continue
        contract = _contract(cid, c, shift_rules, need, field, slot)
        if contract is not None:
            out[cid] = contract
            from .rules import check_contract

            check_contract(contract, rules, need, field + ".paid_hours")
    return out


def _contract(cid: str, c: dict, shift_rules, need, field: str, slot: int) -> Contract | None:
    lengths = tuple(float(h) for h in c.get("paid_hours", shift_rules.paid_hours))
    if not need(len(set(lengths)) == 1, "one paid length per contract (define one contract "
                "per length)", field + ".paid_hours"):
        return None
    length = lengths[0]
    if not need(0 < length <= 24 and round(length * 60) % slot == 0,
                f"{length:g} h is not a whole number of {slot}-minute slots in (0, 24]",
                field + ".paid_hours"):
        return None
    hours, days = _week_terms(c, length, need, field)
    if hours is None:
        return None
    names = c.get("weekdays", list(WEEKDAY_NAMES))
    bad = [n for n in names if n not in WEEKDAY_NAMES]
    if not need(not bad and names and len(set(names)) == len(names),
                f"{bad[0] if bad else names!r} is not a list of distinct weekdays "
                f"({', '.join(WEEKDAY_NAMES)})", field + ".weekdays"):
        return None
    weekdays = tuple(sorted(WEEKDAY_NAMES.index(n) for n in names))
    if not need(max(days) <= len(weekdays), f"{max(days)} days a week on {len(weekdays)} "
                "allowed weekdays", field + ".weekdays"):
        return None
    window = _window(c, length, shift_rules, need, field, slot)
    if window is None:
        return None
    from ..scenario import _parse_date

    first = _parse_date(c["cycle_start"]) if "cycle_start" in c else None
    return Contract(cid, (length,), days, hours, weekdays, *window, first)


def _week_terms(c: dict, length: float, need, field: str):
    """(hours, days) per cycle week: the cycle lists, or weekly_hours and days_per_week."""
    cyc_h, cyc_d = c.get("cycle_weekly_hours"), c.get("cycle_days_per_week")
    if cyc_h is not None or cyc_d is not None:
        if not need(cyc_h is not None and cyc_d is not None and len(cyc_h) == len(cyc_d),
                    "cycle_weekly_hours and cycle_days_per_week go together, one entry per "
                    "week of the cycle", field + ".cycle_days_per_week"):
            return None, None
        need(len(cyc_h) <= 52, f"{len(cyc_h)} weeks: a cycle has at most 52",
             field + ".cycle_weekly_hours")
        hours, days = tuple(float(h) for h in cyc_h), cyc_d
        if "weekly_hours" in c and not need(
                abs(float(c["weekly_hours"]) - sum(hours) / len(hours)) < 1e-6,
                f"{float(c['weekly_hours']):g} h is not the cycle's average "
                f"{sum(hours) / len(hours):g} h", field + ".weekly_hours"):
            return None, None
    else:
        if not need("days_per_week" in c and "weekly_hours" in c,
                    "needs days_per_week and weekly_hours (or a cycle)", field):
            return None, None
        hours, days = (float(c["weekly_hours"]),), (c["days_per_week"],)
    for i, (h, d) in enumerate(zip(hours, days)):
        where = f" (cycle week {i + 1})" if len(hours) > 1 else ""
        if not need(float(d).is_integer() and 0 <= d <= 7 and (d >= 1 or len(hours) > 1),
                    f"{d:g} days a week{where}: must be a whole number in [1, 7]",
                    field + (".cycle_days_per_week" if where else ".days_per_week")):
            return None, None
        if not need(abs(h - d * length) < 1e-6, f"{h:g} h is not {int(d)} shifts of "
                    f"{length:g} h{where}", field + (".cycle_weekly_hours" if where
                                                     else ".weekly_hours")):
            return None, None
    return hours, tuple(int(d) for d in days)


def _window(c: dict, length: float, shift_rules, need, field: str, slot: int):
    """(earliest start, latest end) in minutes, or None on an error."""
    from ..scenario import _minutes, _parse_time

    lo = _minutes(_parse_time(c["earliest_start"])) if "earliest_start" in c else None
    hi = _minutes(_parse_time(c["latest_end"])) if "latest_end" in c else None
    for m, key in ((lo, "earliest_start"), (hi, "latest_end")):
        if m is not None and not need(m % slot == 0, f"{c[key]} is not on the {slot}-minute "
                                      "slot grid", f"{field}.{key}"):
            return None
    brk = (shift_rules.unpaid_break_minutes
           if length > shift_rules.break_after_hours and shift_rules.unpaid_break_minutes else 0)
    span = int(round(length * 60)) + brk
    if lo is not None or hi is not None:
        a, b = lo or 0, 1440 if hi is None else hi
        if not need(b - a >= span, f"{c.get('earliest_start', '00:00')}-"
                    f"{c.get('latest_end', '24:00')} cannot hold a {length:g} h shift"
                    + (f" plus its {brk} min break" if brk else ""), f"{field}.latest_end"):
            return None
    return lo, hi


def parse_mixes(section: dict, contracts: dict, need) -> dict:
    """`[teams.ID] contracts = {CONTRACT = advisers}`: team -> {contract id: advisers}, in
    file order (the team's ids are numbered in that order). Teams checked against the
    providers by `check_mixes`."""
    out = {}
    for team, t in section.items():
        mix = t.get("contracts")
        field = f"teams.{team}.contracts"
        if not need(isinstance(mix, dict) and mix, "needs contracts = {CONTRACT = advisers, ...}",
                    field):
            continue
        ok = True
        for cid, n in mix.items():
            ok &= need(cid in contracts, f"unknown contract '{cid}' (defined: "
                       f"{', '.join(contracts)})", f"{field}.{cid}")
            ok &= need(n >= 0, f"{n} advisers: must be >= 0", f"{field}.{cid}")
        if ok:
            out[team] = {cid: int(n) for cid, n in mix.items() if n > 0}
    return out


def check_mixes(mixes: dict, providers, file, errors) -> None:
    """Each mixed team an in-house provider whose headcount the mix adds up to."""
    for team, mix in mixes.items():
        field = f"teams.{team}.contracts"
        if team not in providers.index or providers.at[team, "kind"] != "inhouse":
            errors.add(f"'{team}' is not an in-house team of the providers table", file=file,
                       field=field)
            continue
        head = int(providers.at[team, "headcount"])
        if sum(mix.values()) != head:
            errors.add(f"the contracts add up to {sum(mix.values())} advisers, the providers "
                       f"table gives {team} a headcount of {head}", file=file, field=field)


def group_key(team: str, contract_id: str, mixes: dict | None) -> str:
    """The group key of a team's advisers on a contract (the team's own id without a mix)."""
    return f"{team}__{contract_id}" if mixes and team in mixes else team


def check_workable(contracts: dict, used: set, opening: dict, slot: int, shift_rules, file,
                   errors) -> None:
    """Each contract in `used` has, in a week of the `[opening]` hours, at least as many
    weekdays on which one of its shifts fits its window as it has days to work.
    opening: weekday -> (open, close) minutes or None."""
    from .. import shifts as shifts_mod

    for cid in sorted(used):
        c = contracts[cid]
        rules = dataclasses.replace(shift_rules, paid_hours=tuple(c.paid_hours))
        ok = [d for d in c.weekdays if opening.get(d) is not None and any(
            c.in_window(p.start_min, p.end_min)
            for p in shifts_mod.day_patterns(*opening[d], slot, rules))]
        if len(ok) < max(c.days):
            errors.add(f"its shifts fit the opening hours on {len(ok)} of its weekdays "
                       f"({', '.join(WEEKDAY_NAMES[d] for d in ok) or 'none'}), fewer than its "
                       f"{max(c.days)} days a week", file=file, field=f"contracts.{cid}")


def leave_days_off(contract: Contract, scenario, start: dt.date, week: int, leave) -> int:
    """Days an adviser's unavailable dates (`leave`, a set of dates) take off their contract
    in planning week `week`: those on the contract's weekdays and open, beyond the calendar's
    paid days off, at most the week's days."""
    from ..calendar import week_dates

    start = _day(start)
    dates = week_dates(start, week)
    n_days = int(contract.days[contract.cycle_week(dates[0], start)])
    cal = paid_days_off(contract, scenario, dates)
    mine = sum(1 for d in dates if d in leave and d.weekday() in contract.weekdays
               and scenario.opening_on(d) is not None)
    return min(cal + mine, n_days) - min(cal, n_days)


def fixed_pay_hours(scenario, team: str) -> float | None:
    """A team's paid hours a week when its groups have fixed counts (a contract mix or the
    advisers table): each group's advisers x its contract's (average) weekly hours; None for
    a team of one `[shifts]` group (its headcount x `[shifts].weekly_hours`)."""
    mine = [g for g in groups(scenario) if g.team == team]
    if all(g.count is None for g in mine):
        return None
    return float(sum(g.count * g.contract.weekly_hours for g in mine))


def week_signature(scenario, start, week: int) -> str:
    """What the in-house groups ask of planning week `week`, relative to its first day (hours
    and days per group, advisers away per day and leave classes): two weeks with equal
    requirement rows and equal signatures have the same model (allocation.reuse). Empty when
    every group is a `[shifts]` team, whose week the requirement rows already fix."""
    gs = groups(scenario)
    if all(g.count is None and len(g.contract.hours) == 1 for g in gs):
        return ""
    start = _day(start)
    w0 = start + dt.timedelta(days=7 * week)
    parts = []
    for g in gs:
        lv = member_weeks(g, scenario, start, week) if g.members else None
        parts.append((g.key, week_terms(g.contract, scenario, start, week), None if lv is None
                      else (lv["hours"], lv["days"],
                            sorted(((d - w0).days, n) for d, n in lv["per_date"].items()),
                            sorted((sorted((d - w0).days for d in k), v)
                                   for k, v in lv["classes"].items()))))
    return repr(parts)


def group_column(scenario, rosters):
    """Each roster line's group key (a pandas Series): named advisers by their group, generated
    ones by team (and contract in a mixed team). The text columns may be categorical (the
    rosters table's) or plain; the keys are plain text either way."""
    gs = groups(scenario)
    text = lambda c: (rosters[c].astype(object)  # noqa: E731
                      if rosters[c].dtype == "category" else rosters[c])
    team = text("team")
    if all(g.count is None for g in gs):
        return team
    mixes = list(getattr(scenario, "team_contracts", None) or {})
    out = team.where(~team.isin(mixes), team + "__" + text("contract"))
    named = {a: g.key for g in gs for a in g.members}
    return text("adviser").map(named).fillna(out) if named else out
