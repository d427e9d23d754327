"""A tiny priced scenario (one plateau, one subcontractor, Monday 08:00-12:00) for economics tests."""

from pathlib import Path

MODEL = """name = "tiny"
[horizon]
start = 2009-03-02
weeks = 1
slot_minutes = 30
[opening]
default = "closed"
mon = ["08:00", "12:00"]
[demand]
holidays = ""
[service]
sl_scope = "slot"
queueing = "{queueing}"
sl_target = 0.8
answer_s = 20
patience_s = 120
[shifts]
paid_hours = [2.0]
unpaid_break_minutes = 0
weekly_hours = 2.0
days_per_week = 1
[pricing]
active = "R2"
base = "R1"
[pricing.regimes.R0]
eur_per_min = 0.34
bill_waiting = true
operator_share = 0.58
[pricing.regimes.R1]
eur_per_min = 0.34
operator_share = 0.58
[pricing.regimes.R2]
setup_eur_per_call = 0.078
eur_per_min = 0.028
eur_per_min_offpeak = 0.014
operator_share = 0.0
call_uplift = 0.10
[policy]
offshore_cap = 1.0
[inputs]
plateaux = "plateaux.csv"
providers = "providers.csv"
profiles = "profiles.csv"
"""


def write_tiny(root: Path, queueing: str = "erlang_c", cost_eur_per_hour: float = 27.0) -> Path:
    """52,000 calls a year, all on Mondays 08:00-12:00 (1,000 a Monday), AHT 300 s; one
    subcontractor at `cost_eur_per_hour`. Returns the model path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "tiny.toml").write_text(MODEL.format(queueing=queueing), encoding="utf-8")
    (root / "plateaux.csv").write_text(
        "id,annual_calls,aht_s,callback_share,callback_threshold_s,long_call_aht_s\n"
        "p,52000,300,0,1800,2400\n", encoding="utf-8")
    (root / "profiles.csv").write_text("plateau,profile,key,weight\n*,intraday,00:00,1\n",
                                       encoding="utf-8")
    (root / "providers.csv").write_text(
        "id,kind,site,plateaux,cost_eur_per_hour,seats,shrinkage,aht_factor\n"
        f"sub,subcontractor,X,p,{cost_eur_per_hour:g},200,0.25,1.0\n", encoding="utf-8")
    return root / "tiny.toml"
