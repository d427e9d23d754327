"""A small scenario for the capacity plan: one plateau open Mon-Fri 08:00-12:00, one in-house
team with two-hour shifts, one subcontractor, one offshore site, and its [capacity] keys."""

from pathlib import Path

MODEL = """name = "small-capacity"
[horizon]
start = 2009-03-02
weeks = 1
slot_minutes = 30
[opening]
default = ["08:00", "12:00"]
sat = "closed"
sun = "closed"
[demand]
holidays = "FR"
[service]
sl_target = 0.8
answer_s = 20
[shifts]
paid_hours = [4.0]
unpaid_break_minutes = 0
weekly_hours = 20.0
days_per_week = 5
[pricing]
active = "R2"
base = "R1"
[pricing.regimes.R1]
eur_per_min = 0.34
operator_share = 0.58
[pricing.regimes.R2]
setup_eur_per_call = 0.078
eur_per_min = 0.028
operator_share = 0.0
call_uplift = 0.10
[[pricing.timeline]]
regime = "R1"
until = 2008-05-31
[[pricing.timeline]]
regime = "R2"
from = 2008-06-01
[policy]
offshore_cap = 0.2
[inputs]
plateaux = "plateaux.csv"
providers = "providers.csv"
profiles = "profiles.csv"
[capacity]
start = 2008-04-07
weeks = {weeks}
representative_week = 2008-04-07
[capacity.inhouse]
attrition_per_year = {attrition}
training_weeks = 3
training_cost_eur_per_hire = 1000.0
hiring_cost_eur_per_hire = 500.0
class_min = 2
class_max = 6
ramp_up = [0.5]
[capacity.contracts]
notice_weeks = 4
step_hours = 100.0
[capacity.providers.sub]
max_weekly_hours = 400.0
[capacity.providers.off]
max_weekly_hours = 300.0
"""


def write_small(root: Path, weeks: int = 16, attrition: float = 0.3) -> Path:
    """130,000 calls a year on weekdays 08:00-12:00, AHT 300 s; team 'team' of 40 advisers at
    50 EUR/h, subcontractor 'sub' (take-or-pay 100 h/week) at 25 EUR/h, offshore 'off' at 14."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "small.toml").write_text(MODEL.format(weeks=weeks, attrition=attrition), encoding="utf-8")
    (root / "plateaux.csv").write_text(
        "id,annual_calls,aht_s,callback_share,callback_threshold_s,long_call_aht_s\n"
        "p,130000,300,0,1800,2400\n", encoding="utf-8")
    (root / "profiles.csv").write_text("plateau,profile,key,weight\n*,intraday,08:00,1\n"
                                       "*,intraday,10:00,1.5\n", encoding="utf-8")
    (root / "providers.csv").write_text(
        "id,kind,site,plateaux,cost_eur_per_hour,headcount,seats,min_weekly_hours,shrinkage,aht_factor\n"
        "team,inhouse,A,p,50,40,,,0.3,1.0\n"
        "sub,subcontractor,B,p,25,,30,100,0.25,1.0\n"
        "off,offshore,C,p,14,,30,,0.25,1.15\n", encoding="utf-8")
    return root / "small.toml"
