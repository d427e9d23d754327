"""Small scenarios written from scratch, for optimiser cases whose optimum is known by hand.

One day of the week 2009-03-02 (a Monday, no public holiday in the scenario) is usually open;
calls per slot come straight from a forecast table, so the requirement of every slot is exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from staffing import queueing

PROVIDER_COLUMNS = ["id", "kind", "site", "plateaux", "cost_eur_per_hour", "headcount",
                    "headcount_min", "headcount_max", "seats", "min_weekly_hours",
                    "max_weekly_hours", "shrinkage", "aht_factor"]
PLATEAU_COLUMNS = ["id", "annual_calls", "aht_s", "callback_share", "callback_threshold_s",
                   "long_call_aht_s"]
MONDAY = "2009-03-02"
SL_TARGET, ANSWER_S = 0.8, 20.0


def _toml_value(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def _section(name: str, values: dict) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in values.items())


def _csv(columns, rows) -> str:
    lines = [",".join(columns)]
    for r in rows:
        lines.append(",".join("" if r.get(c) is None else str(r[c]) for c in columns))
    return "\n".join(lines) + "\n"


def write(root: Path, *, providers: list[dict], forecast: list[tuple], plateaux=None,
          opening=None, shifts=None, policy=None, service=None, weeks: int = 1,
          name: str = "small") -> Path:
    """Write models/NAME.toml and inputs/NAME/*.csv under root; return the model path.

    providers: dicts keyed by PROVIDER_COLUMNS (missing = empty cell); forecast: rows
    (plateau, "YYYY-MM-DD HH:MM", calls, aht_s); plateaux: dicts keyed by PLATEAU_COLUMNS
    (default: one plateau "p", AHT 300 s, no callbacks); opening: the [opening] table
    (default Monday 08:00-10:00, closed otherwise).
    """
    root = Path(root)
    inputs = root / "inputs" / name
    inputs.mkdir(parents=True, exist_ok=True)
    (root / "models").mkdir(parents=True, exist_ok=True)
    plateaux = plateaux or [{"id": "p", "annual_calls": 1000000, "aht_s": 300, "callback_share": 0,
                             "long_call_aht_s": 2400}]
    (inputs / "plateaux.csv").write_text(_csv(PLATEAU_COLUMNS, plateaux), encoding="utf-8")
    (inputs / "providers.csv").write_text(_csv(PROVIDER_COLUMNS, providers), encoding="utf-8")
    (inputs / "profiles.csv").write_text("plateau,profile,key,weight\n*,intraday,00:00,1\n",
                                         encoding="utf-8")
    fc = [{"plateau": p, "slot_start": s, "calls": c, "aht_s": a} for p, s, c, a in forecast]
    (inputs / "forecast.csv").write_text(_csv(["plateau", "slot_start", "calls", "aht_s"], fc),
                                         encoding="utf-8")
    model = root / "models" / f"{name}.toml"
    parts = [
        f'name = "{name}"\n',
        _section("horizon", {"start": "__START__", "weeks": weeks, "slot_minutes": 30}),
        _section("opening", opening or {"default": "closed", "mon": ["08:00", "10:00"]}),
        _section("demand", {"holidays": ""}),
        _section("service", {"sl_scope": "slot", "queueing": "erlang_c", "sl_target": SL_TARGET,
                             "answer_s": ANSWER_S, **(service or {})}),
        _section("shifts", shifts or {"paid_hours": [2.0], "unpaid_break_minutes": 0,
                                      "weekly_hours": 2.0, "days_per_week": 1}),
        _section("pricing", {"active": "R"}),
        _section("pricing.regimes.R", {"eur_per_min": 0.0}),
        _section("policy", {"offshore_cap": 1.0, "shortfall_penalty_eur_per_agent_hour": 500.0,
                            "max_shortfall_share": 0.0, **(policy or {})}),
        _section("inputs", {"plateaux": f"../inputs/{name}/plateaux.csv",
                            "providers": f"../inputs/{name}/providers.csv",
                            "profiles": f"../inputs/{name}/profiles.csv",
                            "forecast": f"../inputs/{name}/forecast.csv"}),
    ]
    text = "\n".join(parts).replace('"__START__"', MONDAY)
    model.write_text(text, encoding="utf-8")
    return model


def monday_slots(calls, start: str = "08:00", plateau: str = "p", aht_s: float = 300.0,
                 day: str = MONDAY) -> list[tuple]:
    """Forecast rows for consecutive half-hour slots from `start` on `day`."""
    h, m = map(int, start.split(":"))
    rows = []
    for j, c in enumerate(calls):
        minute = h * 60 + m + 30 * j
        rows.append((plateau, f"{day} {minute // 60:02d}:{minute % 60:02d}", c, aht_s))
    return rows


def required(calls, aht_s=300.0) -> np.ndarray:
    """Agents each slot needs at the small scenarios' target (80 % within 20 s, Erlang C)."""
    return np.asarray(queueing.required_agents(np.asarray(calls, float), aht_s, 30.0, SL_TARGET,
                                               ANSWER_S), dtype=int)
