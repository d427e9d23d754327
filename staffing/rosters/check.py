"""Every working-time rule on every adviser's roster: the violations, by how much.

Definitions (docs/rosters.md): rest periods are the gaps between an adviser's consecutive
shifts (before the first shift and after the last, unbounded). Weeks are the horizon's
7-day weeks from its first day.

- daily_rest: every gap >= daily_rest_hours (L3131-1);
- weekly_rest: each week overlaps by at least 24 h a gap >= weekly_rest_hours (L3132-2);
- days_in_a_row: no more than max_days_in_a_row consecutive dates worked (L3132-1);
- one_shift_a_day: at most one shift starting on a date;
- daily_hours: paid hours and work time of a shift <= max_daily_hours (L3121-18);
- weekly_hours: paid hours in a week <= max_weekly_hours (L3121-20);
- break: a shift with more than break_after_hours of work has a break of at least
  min_break_minutes, with no more than break_after_hours of work on either side (L3121-16);
- contract_hours: paid hours in a week equal the contract's hours that week (its cycle week's,
  less the days the calendar closes);
- contract_days / contract_length / contract_weekday / contract_window: shifts in a week equal
  the contract's days that week; each shift's paid length is one of the contract's, on one of
  its weekdays, within its daily window (earliest start, latest end);
- leave: no shift on a date the adviser is unavailable (the advisers table);
- sundays: Sundays worked in any 4 consecutive weeks <= max_sundays_per_4_weeks (windows reaching
  before the horizon count the pre-horizon state's sundays_worked);
- start_spread: latest minus earliest start (time of day) in a week <= max_start_spread_hours;
- night_shifts / night_shift_hours: night shifts a week <= max_night_shifts_per_week, a night
  shift's work <= max_night_shift_hours (L3122-6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import NIGHT_SHIFT_MIN_HOURS, WorkingRules

VIOLATION_COLUMNS = ["file", "adviser", "date", "rule", "excess", "unit"]
_H = pd.Timedelta(hours=1)


def check_rosters(rosters: pd.DataFrame, rules: WorkingRules, start, weeks: int,
                  contracts: dict | None = None, file: str = "rosters",
                  state: pd.DataFrame | None = None,
                  hours_off: list | None = None, leave: dict | None = None,
                  advisers: dict | None = None) -> pd.DataFrame:
    """Violations of `rules` in a rosters table (columns as written by optimise).

    contracts: contract id -> weekly hours, or the contract as the manifest records it
    (contracts.Contract.as_dict plus `weeks`: [hours, days] of each week), which also checks
    the contract's days, lengths, weekdays and window (the contract rules are skipped for a
    contract not given);
    hours_off: per week, contract hours paid, not worked (days the calendar closes): that
    week's contract_hours rule wants a weekly-hours contract's hours less these;
    leave: adviser -> {"dates": ISO dates unavailable, "days_off": contract days they take off
    each week} (the manifest's `rosters.leave`): no shift on those dates (rule `leave`), and
    that week's contract hours and days are less as many days;
    advisers: adviser -> contract of every adviser the plan has (the manifest's
    `rosters.advisers`): one without any shift is checked against their contract too;
    state: the advisers' state before the horizon (rosters.state: adviser, last_shift_end,
    days_in_a_row, optional sundays_worked): the daily rest, the days in a row and the
    Sunday limit continue from it.
    Returns rows (file, adviser, date, rule, excess, unit): `excess` is how far past the
    limit (hours, days, minutes or shifts as `unit` says); empty when every rule holds.

    Every rule reads one adviser's lines only: a large table is checked BLOCK_LINES lines at
    a time, by ranges of adviser ids (the same rows as at once, in less memory)."""
    if not len(rosters):
        return pd.DataFrame(columns=VIOLATION_COLUMNS)
    args = (rules, start, weeks, contracts, file)
    blocks = adviser_blocks(rosters["adviser"], BLOCK_LINES)
    if len(blocks) < 2:
        return _check_block(rosters, *args, state, hours_off, leave, advisers)
    bounds = np.asarray([b[0] for b in blocks[1:]], dtype=object)
    block_of = lambda names: np.searchsorted(bounds, np.asarray(names, dtype=object),  # noqa: E731
                                             side="right")
    state_block = block_of(state["adviser"].astype(str).tolist()) if state is not None and len(
        state) else None
    adviser_block = dict(zip(advisers, block_of(list(advisers)))) if advisers else {}
    parts = []
    for i, names in enumerate(blocks):
        mine = rosters[rosters["adviser"].isin(names)]
        st = state[state_block == i] if state_block is not None else state
        adv = {a: c for a, c in (advisers or {}).items() if adviser_block[a] == i}
        parts.append(_check_block(mine, *args, st, hours_off, leave, adv or None))
        del mine
    v = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else parts[0]
    return v.sort_values(["adviser", "date", "rule"]).reset_index(drop=True)


BLOCK_LINES = 200_000  # roster lines checked at a time (a year of the default: 832,000)


def adviser_blocks(adviser: pd.Series, lines: int) -> list[list]:
    """The distinct adviser ids of a rosters table, sorted, in consecutive blocks of about
    `lines` roster lines each (an adviser's lines all in one). One block when a line has
    no adviser."""
    if adviser.isna().any():
        return [None]
    counts = adviser.value_counts(sort=False)
    counts = counts[counts > 0]
    names = sorted(counts.index.tolist())
    n = counts.reindex(names).to_numpy()
    block = (np.cumsum(n) - n) // max(int(lines), 1)  # by the lines before each adviser
    return [[names[i] for i in np.flatnonzero(block == b)] for b in np.unique(block)]


def _check_block(rosters, rules, start, weeks, contracts, file, state, hours_off, leave,
                 advisers) -> pd.DataFrame:
    """check_rosters on a table (or one block of its advisers) at once."""
    t0 = pd.Timestamp(start)
    used = ["adviser", "shift_start", "shift_end", "break_start", "break_end", "date",
            "paid_hours", "contract"]  # only these are copied in sorting (a year: 832,000 lines)
    r = rosters[used].sort_values(["adviser", "shift_start"]).reset_index(drop=True)
    mins = lambda c: ((pd.to_datetime(r[c]) - t0) / pd.Timedelta(minutes=1)).to_numpy(float)  # noqa: E731
    t = {"adv": _text(r["adviser"]), "s": mins("shift_start"), "e": mins("shift_end"),
         "bs": mins("break_start"), "be": mins("break_end"), "day": mins("date") // DAY,
         "paid": r["paid_hours"].to_numpy(float), "contract": _text(r["contract"]),
         "wd": pd.to_datetime(r["date"]).dt.day_of_week.to_numpy()}
    before = (None if state is None or "sundays_worked" not in getattr(state, "columns", ())
              else state.set_index("adviser")["sundays_worked"].astype(int))
    t["tod_s"] = t["s"] - t["day"] * DAY
    t["tod_e"] = t["e"] - t["day"] * DAY
    parts = [_pairs(_with_state(t, state, t0), rules), _shifts(t, rules),
             _weeks(t, rules, weeks, contracts or {}, hours_off, leave or {}, advisers or {}),
             _contract_shifts(t, contracts or {}), _sundays(t, rules, weeks, before),
             _weekly_rest(t, rules, weeks), _on_leave(t, t0, leave or {})]
    v = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=VIOLATION_COLUMNS[1:])
    v["date"] = t0 + pd.to_timedelta(v["day"].astype(float), unit="D") if len(v) else pd.Series(
        [], dtype="datetime64[ns]")
    v = v[VIOLATION_COLUMNS[1:]] if len(v) else pd.DataFrame(columns=VIOLATION_COLUMNS[1:])
    v.insert(0, "file", file)
    v["excess"] = v["excess"].astype(float)
    return v.sort_values(["adviser", "date", "rule"]).reset_index(drop=True)


DAY = 1440


def _text(s: pd.Series) -> np.ndarray:
    """A text column as an object array whose equal values are one string object (a year's
    832,000 lines name 3,200 advisers: not 832,000 strings); missing values stay missing."""
    codes, uniques = pd.factorize(s)
    out = np.asarray(uniques, dtype=object).take(np.maximum(codes, 0)) if len(uniques) else (
        np.full(len(s), None, dtype=object))
    missing = codes < 0
    if missing.any():
        out[missing] = s.to_numpy(dtype=object)[missing]
    return out


def _frame(adv, day, rule, excess, unit) -> pd.DataFrame:
    return pd.DataFrame({"adviser": adv, "day": day, "rule": rule, "excess": excess, "unit": unit})


def _with_state(t: dict, state, t0) -> dict:
    """t with, per adviser of `state`, a zero-length marker on each of the days_in_a_row days
    before the horizon, the last one ending at last_shift_end (for _pairs)."""
    if state is None or not len(state):
        return t
    adv, s, e, day = [], [], [], []
    for r in state.itertuples(index=False):
        last = (pd.Timestamp(r.last_shift_end) - t0) / pd.Timedelta(minutes=1)
        n = max(int(r.days_in_a_row), 1)
        for k in range(n, 0, -1):
            d = -k if int(r.days_in_a_row) else last // DAY
            adv.append(r.adviser)
            s.append(min(d * DAY, last))
            e.append(last if k == 1 else d * DAY)
            day.append(d)
    keys = ("adv", "s", "e", "day")
    merged = {k: np.r_[np.asarray(v, dtype=t[k].dtype if k == "adv" else float), t[k]]
              for k, v in zip(keys, (adv, s, e, day))}
    order = np.lexsort((merged["s"], merged["adv"]))
    return {k: v[order] for k, v in merged.items()}


def _pairs(t, rules) -> pd.DataFrame:
    """Rules between an adviser's consecutive shifts and dates."""
    out = []
    same = t["adv"][1:] == t["adv"][:-1]
    gap = (t["s"][1:] - t["e"][:-1]) / 60
    bad = same & (gap < rules.daily_rest_hours - 1e-9)
    out.append(_frame(t["adv"][1:][bad], t["day"][1:][bad], "daily_rest",
                      rules.daily_rest_hours - gap[bad], "hours"))
    dup = same & (t["day"][1:] == t["day"][:-1])
    out.append(_frame(t["adv"][1:][dup], t["day"][1:][dup], "one_shift_a_day", 1.0, "shifts"))
    days = pd.DataFrame({"adv": t["adv"], "day": t["day"]}).drop_duplicates()
    new_run = (days["adv"] != days["adv"].shift()) | (days["day"] != days["day"].shift() + 1)
    run = days.groupby(new_run.cumsum()).cumcount() + 1
    over = run > rules.max_days_in_a_row
    out.append(_frame(days["adv"][over].to_numpy(), days["day"][over].to_numpy(), "days_in_a_row",
                      (run[over] - rules.max_days_in_a_row).to_numpy(float), "days"))
    return pd.concat(out, ignore_index=True)


def night_work(s, e, bs, be, rules) -> np.ndarray:
    """Minutes of work of shifts [s, e) minus their break [bs, be) (NaN: none), in minutes
    from a midnight, inside the night period night_start..night_end of any day."""
    ns = rules.night_start.hour * 60 + rules.night_start.minute
    ne = rules.night_end.hour * 60 + rules.night_end.minute + (DAY if rules.night_end <= rules.night_start else 0)
    day0 = np.floor(s / DAY) * DAY
    total = np.zeros(len(s))
    bs, be = np.nan_to_num(bs, nan=0.0), np.nan_to_num(be, nan=0.0)
    for k in (-1, 0, 1, 2):
        a, b = day0 + k * DAY + ns, day0 + k * DAY + ne
        total += np.maximum(0, np.minimum(b, e) - np.maximum(a, s))
        total -= np.maximum(0, np.minimum(b, be) - np.maximum(a, bs))
    return total


def _shifts(t, rules) -> pd.DataFrame:
    """Rules of each shift: hours, break, night length."""
    has = ~np.isnan(t["bs"])
    brk = np.where(has, t["be"] - t["bs"], 0.0)
    work = (t["e"] - t["s"] - brk) / 60
    longest = np.where(has, np.maximum(t["bs"] - t["s"], t["e"] - t["be"]) / 60, work)
    hours = np.maximum(work, t["paid"])
    out = []
    bad = hours > rules.max_daily_hours + 1e-9
    out.append(_frame(t["adv"][bad], t["day"][bad], "daily_hours",
                      hours[bad] - rules.max_daily_hours, "hours"))
    needs = work > rules.break_after_hours + 1e-9
    short = needs & (brk < rules.min_break_minutes - 1e-9)
    out.append(_frame(t["adv"][short], t["day"][short], "break",
                      rules.min_break_minutes - brk[short], "minutes"))
    long = needs & ~short & (longest > rules.break_after_hours + 1e-9)
    out.append(_frame(t["adv"][long], t["day"][long], "break",
                      (longest[long] - rules.break_after_hours) * 60, "minutes"))
    night = night_work(t["s"], t["e"], t["bs"], t["be"], rules) >= NIGHT_SHIFT_MIN_HOURS * 60
    t["night"] = night
    nl = night & (work > rules.max_night_shift_hours + 1e-9)
    out.append(_frame(t["adv"][nl], t["day"][nl], "night_shift_hours",
                      work[nl] - rules.max_night_shift_hours, "hours"))
    return pd.concat(out, ignore_index=True)


def _weeks(t, rules, weeks, contracts, hours_off=None, leave=None,
           advisers=None) -> pd.DataFrame:
    """Rules of each adviser-week: weekly and contract hours, start spread, nights, Sundays."""
    f = pd.DataFrame({"adv": t["adv"], "week": t["s"] // (7 * DAY), "paid": t["paid"],
                      "tod": (t["s"] - t["day"] * DAY) / 60, "night": t["night"],
                      "sun": t["wd"] == 6, "contract": t["contract"]})
    g = f.groupby(["adv", "week"]).agg(paid=("paid", "sum"), lo=("tod", "min"), hi=("tod", "max"),
                                       night=("night", "sum"), sun=("sun", "sum"),
                                       contract=("contract", "first")).reset_index()
    day = (g["week"] * 7).to_numpy(float)
    out = []
    over = g["paid"] > rules.max_weekly_hours + 1e-9
    out.append(_frame(g["adv"][over], day[over], "weekly_hours",
                      g["paid"][over] - rules.max_weekly_hours, "hours"))
    out += _contract_weeks(f, weeks, contracts, hours_off, leave or {}, advisers or {})
    if rules.max_start_spread_hours is not None:
        spread = g["hi"] - g["lo"]
        bad = spread > rules.max_start_spread_hours + 1e-9
        out.append(_frame(g["adv"][bad], day[bad], "start_spread",
                          spread[bad] - rules.max_start_spread_hours, "hours"))
    bad = g["night"] > rules.max_night_shifts_per_week
    out.append(_frame(g["adv"][bad], day[bad], "night_shifts",
                      (g["night"] - rules.max_night_shifts_per_week)[bad], "shifts"))
    return pd.concat(out, ignore_index=True)


def _sundays(t, rules, weeks, before: pd.Series | None = None) -> pd.DataFrame:
    """Sundays worked in any 4 consecutive weeks <= max_sundays_per_4_weeks: every window that
    meets the horizon, those reaching before it counting the pre-horizon state's
    sundays_worked (`before`, per adviser: Sundays in the 3 weeks before the horizon, taken as
    the latest ones, as the builder does) and weeks after it as none. Reported on the window's
    first day inside the horizon."""
    f = pd.DataFrame({"adv": t["adv"], "week": t["s"] // (7 * DAY), "sun": t["wd"] == 6})
    sun = f.groupby(["adv", "week"])["sun"].sum().unstack(fill_value=0).reindex(
        columns=range(weeks), fill_value=0)
    pre = np.zeros((len(sun), 3))
    if before is not None and len(before):
        advs = sun.index.union(before.index)
        sun = sun.reindex(advs, fill_value=0)
        k = before.reindex(advs, fill_value=0).to_numpy(int)
        pre = np.stack([(k >= 3 - j) for j in range(3)], axis=1).astype(float)
    cells = np.hstack([pre, sun.to_numpy(float), np.zeros((len(sun), 3))])
    out = []
    # windows w .. w + 3 (week -1 is the one before the horizon); one reaching past the
    # horizon's end counts no more than the one ending with it
    for w in range(-3, max(weeks - 4, 0) + 1):
        n = cells[:, w + 3:w + 7].sum(axis=1)
        mine = cells[:, max(w, 0) + 3:w + 7].sum(axis=1)  # a past over the limit alone: no fault
        bad = (n > rules.max_sundays_per_4_weeks) & (mine > 0)
        out.append(_frame(sun.index[bad], float(7 * max(w, 0)), "sundays",
                          n[bad] - rules.max_sundays_per_4_weeks, "sundays"))
    v = pd.concat(out, ignore_index=True)
    return v.sort_values("excess").drop_duplicates(["adviser", "day"], keep="last")


def _contract_weeks(f: pd.DataFrame, weeks: int, contracts: dict, hours_off,
                    leave: dict, advisers: dict) -> list:
    """contract_hours and contract_days of every adviser-week of the horizon (a week without
    a shift counts 0 h and 0 days) for the advisers in the table and in `advisers`."""
    g = f.groupby(["adv", "week"]).agg(paid=("paid", "sum"), n=("paid", "size"))
    who = pd.Index(f["adv"].unique()).union(pd.Index(list(advisers), dtype=object))
    every = pd.MultiIndex.from_product([who, range(weeks)], names=["adv", "week"])
    g = g.reindex(g.index.union(every), fill_value=0).reset_index()
    own = f.groupby("adv")["contract"].first()
    g["contract"] = g["adv"].map(own).fillna(g["adv"].map(advisers))
    want, days = _week_wants(g, contracts, hours_off, leave)
    day = (g["week"] * 7).to_numpy(float)
    off = ~np.isnan(want) & (np.abs(g["paid"] - want) > 1e-6)
    out = [_frame(g["adv"][off], day[off], "contract_hours", (g["paid"] - want)[off], "hours")]
    n = g["n"].to_numpy(float)
    off = ~np.isnan(days) & (n != days)
    out.append(_frame(g["adv"][off], day[off], "contract_days", (n - days)[off], "days"))
    return out


def _week_wants(g: pd.DataFrame, contracts: dict, hours_off,
                leave: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per adviser-week row of g: the contract's hours and days that week, less the
    adviser's leave (NaN: unknown)."""
    want, days = np.full(len(g), np.nan), np.full(len(g), np.nan)
    week = g["week"].to_numpy(int)
    for c, spec in contracts.items():
        mine = (g["contract"] == c).to_numpy()
        if isinstance(spec, dict) and spec.get("weeks"):
            table = np.array(spec["weeks"], dtype=float)  # hours, days, hours a day
            ok = mine & (week >= 0) & (week < len(table))
            want[ok], days[ok] = table[week[ok], 0], table[week[ok], 1]
            for i in np.flatnonzero(ok & g["adv"].isin(list(leave)).to_numpy()):
                off = leave[g["adv"].iat[i]].get("days_off", [])
                n = off[week[i]] if week[i] < len(off) else 0
                want[i] -= n * table[week[i], 2]
                days[i] -= n
        elif spec is not None and not isinstance(spec, dict):
            off = np.array([hours_off[w] if hours_off and 0 <= w < len(hours_off) else 0.0
                            for w in week[mine]], dtype=float)
            want[mine] = float(spec) - off
    return want, days


def _on_leave(t, t0, leave: dict) -> pd.DataFrame:
    """Shifts on a date the adviser is unavailable."""
    if not leave:
        return pd.DataFrame(columns=["adviser", "day", "rule", "excess", "unit"])
    off = {(a, (pd.Timestamp(d) - t0).days) for a, e in leave.items() for d in e["dates"]}
    bad = np.array([(a, int(d)) in off for a, d in zip(t["adv"], t["day"])], dtype=bool)
    return _frame(t["adv"][bad], t["day"][bad], "leave", 1.0, "days")


def _contract_shifts(t, contracts: dict) -> pd.DataFrame:
    """Each shift against its adviser's contract: paid length, weekday, daily window."""
    out = []
    for cid, spec in contracts.items():
        if not isinstance(spec, dict):
            continue
        mine = t["contract"] == cid
        lengths = np.array(spec.get("paid_hours") or [spec.get("shift_hours")], dtype=float)
        bad = mine & (np.abs(t["paid"][:, None] - lengths[None, :]).min(axis=1) > 1e-6)
        out.append(_frame(t["adv"][bad], t["day"][bad], "contract_length",
                          np.abs(t["paid"][:, None] - lengths[None, :]).min(axis=1)[bad], "hours"))
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        allowed = [names.index(n) for n in spec.get("weekdays", names)]
        bad = mine & ~np.isin(t["wd"], allowed)
        out.append(_frame(t["adv"][bad], t["day"][bad], "contract_weekday", 1.0, "days"))
        for key, side in (("earliest_start", -1), ("latest_end", 1)):
            if spec.get(key):
                h, m = spec[key].split(":")
                lim = int(h) * 60 + int(m)
                val = t["tod_s"] if side < 0 else t["tod_e"]
                excess = (val - lim) * side
                bad = mine & (excess > 1e-9)
                out.append(_frame(t["adv"][bad], t["day"][bad], "contract_window", excess[bad],
                                  "minutes"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["adviser", "day", "rule", "excess", "unit"])


def _weekly_rest(t, rules, weeks) -> pd.DataFrame:
    """Each week overlaps by >= 24 h a rest of >= weekly_rest_hours (gaps between shifts,
    unbounded before an adviser's first shift and after the last)."""
    far = 1e9
    adv = t["adv"]
    first = np.r_[True, adv[1:] != adv[:-1]]
    last = np.r_[adv[1:] != adv[:-1], True]
    a = np.where(first, -far, np.r_[-far, t["e"][:-1]])
    b = t["s"]
    ga, gb, gadv = np.r_[a, t["e"][last]], np.r_[b, np.full(last.sum(), far)], np.r_[adv, adv[last]]
    # each adviser's gaps side by side, once (not a grouping of the text per week)
    code, names = pd.factorize(gadv, sort=True)
    order = np.argsort(code, kind="stable")
    ga, gb = ga[order], gb[order]
    starts = np.flatnonzero(np.r_[True, np.diff(code[order]) != 0])
    out = []
    for w in range(weeks):
        w0, w1 = w * 7 * DAY, (w + 1) * 7 * DAY
        inside = np.minimum(gb, w1) - np.maximum(ga, w0)
        length = np.where(inside >= DAY - 1e-9, (gb - ga) / 60, 0.0)
        best = np.maximum.reduceat(length, starts)  # the longest gap of each adviser
        bad = best < rules.weekly_rest_hours - 1e-9
        out.append(_frame(names[bad], float(7 * w), "weekly_rest",
                          (rules.weekly_rest_hours - best[bad]).astype(float), "hours"))
    return pd.concat(out, ignore_index=True)


def _weeks_of(c: dict, run_days_off: list) -> dict:
    """A manifest contract with `weeks`: [hours, days] of each planning week, its cycle week's
    less W/L hours and a day per paid day off (its own, else the run's)."""
    off = c.get("paid_days_off", run_days_off)
    weeks = []
    for w, i in enumerate(c["cycle_week"]):
        h, d = float(c["cycle_weekly_hours"][i]), int(c["cycle_days_per_week"][i])
        n = min(int(off[w]) if w < len(off) else 0, d)
        weeks.append([h - n * h / d if d else 0.0, d - n, h / d if d else 0.0])
    return dict(c, weeks=weeks)


def check_run(tables: dict, manifest: dict) -> pd.DataFrame:
    """Violations in a run folder's rosters, with the rules its manifest recorded."""
    entry = manifest.get("rosters") or {}
    rules = WorkingRules.from_dict(entry.get("rules", {}))
    contracts = {c["id"]: (_weeks_of(c, entry.get("paid_days_off", []))
                           if "cycle_week" in c else float(c["weekly_hours"]))
                 for c in entry.get("contracts", [])}
    one = entry.get("contracts", [{}])[0] if entry.get("contracts") else {}
    per_day = float(one.get("weekly_hours", 0)) / max(int(one.get("days_per_week", 1)), 1)
    hours_off = [n * per_day for n in entry.get("paid_days_off", [])]
    opts = manifest.get("options", {})
    r = tables["rosters"]
    for c in ("shift_start", "shift_end", "break_start", "break_end", "date"):
        r[c] = pd.to_datetime(r[c])
    state = None
    if entry.get("state"):
        state = pd.DataFrame(entry["state"], columns=["adviser", "last_shift_end",
                                                      "days_in_a_row", "sundays_worked"])
        state["last_shift_end"] = pd.to_datetime(state["last_shift_end"])
    return check_rosters(r, rules, opts.get("start"), int(opts.get("weeks", 1)), contracts,
                         file="rosters", state=state, hours_off=hours_off,
                         leave=entry.get("leave"),
                         advisers=_advisers_of(entry, manifest.get("headcount", {})))


def _advisers_of(entry: dict, headcount: dict) -> dict:
    """adviser -> contract from the manifest's `rosters.advisers` (a generated group without
    a count has its team's `headcount`)."""
    out = {}
    for g in entry.get("advisers", []):
        ids = g.get("ids")
        if ids is None:
            n = g.get("count")
            n = int(round(headcount.get(g["team"], 0))) if n is None else int(n)
            ids = [f"{g['team']}-{i:04d}" for i in range(int(g["first"]), int(g["first"]) + n)]
        out.update({a: g["contract"] for a in ids})
    return out
