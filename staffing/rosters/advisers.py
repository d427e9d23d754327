"""The advisers table (`inputs.advisers`, optional): named advisers, their contract, skills
and leave.

One row per adviser: `id` (unique), `team` (an in-house team of the providers table),
`contract` (`full-time` or a `[contracts.ID]`; blank = `full-time`), `skills` (a `;`-separated
subset of the team's plateaux; blank = all of them), `unavailable` (leave, training: `;`-
separated ISO dates or inclusive ranges `2009-03-02..2009-03-06`; blank = none), optional
`source`. A team listed in the table is planned and rostered with exactly these advisers: its
rows must number its providers `headcount` (and match `[teams.ID] contracts` when both are
given); teams not listed keep generated advisers (`fr-lyon-0001` ...).

An unavailable date is paid, not worked, like a date the calendar closes but for that adviser
only: on one of the contract's weekdays that is open, it takes a day (W/L hours) off the
adviser's week (at most the week's days), and the adviser has no shift that day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..errors import InputError

COLUMNS = ("id", "team", "contract", "skills", "unavailable")
MAX_LEAVE_DAYS = 3660  # one adviser's unavailable dates: ten years at most


def load_advisers(path, providers: pd.DataFrame, contracts: dict) -> pd.DataFrame:
    """The table, checked: columns id, team, contract, skills (tuple of plateau ids, in the
    team's order), unavailable (frozenset of dates). InputError naming file, row and field."""
    from ..scenario import read_table

    file = str(path)
    header, rows = read_table(path)
    for need in COLUMNS[:2]:
        if need not in header:
            raise InputError(f"missing column '{need}'", file=file, field=need)
    for name in header:
        if name not in COLUMNS and name != "source":
            raise InputError(f"unknown column '{name}'", file=file, row=1, field=name)
    inhouse = providers[providers["kind"] == "inhouse"]
    out, seen = [], set()
    for line, rec in rows:
        text = {c: str(rec.get(c) or "").strip() for c in COLUMNS}
        err = lambda msg, field: InputError(msg, file=file, row=line, field=field)  # noqa: E731
        a = text["id"]
        if not a:
            raise err("missing value: an adviser id", "id")
        if a in seen:
            raise err(f"adviser '{a}' listed twice", "id")
        seen.add(a)
        team = text["team"]
        if team not in inhouse.index:
            raise err(f"'{team}' is not an in-house team (teams: {', '.join(inhouse.index)})",
                      "team")
        cid = text["contract"] or "full-time"
        if cid not in contracts:
            raise err(f"unknown contract '{cid}' (defined: {', '.join(contracts)})", "contract")
        team_skills = tuple(inhouse.at[team, "plateaux"])
        skills = [s.strip() for s in text["skills"].split(";") if s.strip()]
        bad = [s for s in skills if s not in team_skills]
        if bad:
            raise err(f"'{bad[0]}' is not a plateau of {team} ({', '.join(team_skills)})",
                      "skills")
        skills = tuple(p for p in team_skills if p in skills) if skills else team_skills
        out.append((a, team, cid, skills, _dates(text["unavailable"], err)))
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    _check_counts(frame, inhouse, file)
    return frame


def _dates(text: str, err) -> frozenset:
    """`;`-separated ISO dates and inclusive ranges `a..b`."""
    out: set = set()
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        ends = part.split("..")
        try:
            first, last = (dt.date.fromisoformat(ends[0].strip()),
                           dt.date.fromisoformat(ends[-1].strip()))
        except ValueError:
            raise err(f"cannot read '{part}' as a date YYYY-MM-DD or a range "
                      "YYYY-MM-DD..YYYY-MM-DD", "unavailable") from None
        if len(ends) > 2 or last < first:
            raise err(f"'{part}' is not a range from an earlier to a later date", "unavailable")
        if (last - first).days + len(out) > MAX_LEAVE_DAYS:
            raise err(f"more than {MAX_LEAVE_DAYS} unavailable dates", "unavailable")
        out.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return frozenset(out)


def _check_counts(frame: pd.DataFrame, inhouse: pd.DataFrame, file: str) -> None:
    """A listed team has its whole headcount in the table."""
    for team, n in frame.groupby("team", sort=False).size().items():
        head = int(inhouse.at[team, "headcount"])
        if n != head:
            raise InputError(f"{n} advisers of {team}, the providers table gives it a "
                             f"headcount of {head}: list every adviser of a team or none",
                             file=file, field="team")


def check_mixes(frame: pd.DataFrame, mixes: dict, file) -> None:
    """A team both in the table and in `[teams.ID] contracts`: the counts must agree."""
    for team, mix in mixes.items():
        got = frame.loc[frame["team"] == team, "contract"].value_counts().to_dict()
        if got and got != {c: n for c, n in mix.items() if n}:
            raise InputError(f"teams.{team}.contracts gives {mix}, the advisers table "
                             f"{got}", file=str(file), field=f"teams.{team}.contracts")
