"""docs/outputs.md against what the commands really write.

Real run folders (optimise on the default scenario in slot and day scope; optimise, simulate,
compare and sweep on a tiny scenario; a tiny run over the October clock change) are compared
with the document: every table written has a section, every column written is documented in
the order written and with the kind the manifest records, every documented column that is not
marked optional is written, every manifest key and summary metric is documented (with its
unit) and every documented one is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from capacity_helpers import write_small
from economics_helpers import write_tiny
from staffing import economics, sweep
from staffing.cli import main

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"str", "datetime", "date", "time", "int", "float", "bool"}
COMMANDS = ("optimise", "compare", "sweep", "simulate", "capacity")
PLACEHOLDER = re.compile(r"<\w+>")


# ------------------------------------------------------------------ the document

def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(lines: list[str]) -> list[tuple[list[str], list[list[str]]]]:
    """Markdown tables in lines: (header cells, rows of cells)."""
    out, block = [], []
    for line in lines + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2 and set(block[1].replace("|", "").strip()) <= set("- "):
            out.append((_cells(block[0]), [_cells(b) for b in block[2:]]))
        block = []
    return out


def parse_doc(text: str) -> dict:
    """{"tables": {table: [column dicts]}, "metrics": [...], "manifest": {key: commands}}."""
    sections: dict[str, list[str]] = {}
    manifest_lines: list[str] = []
    current = None
    for line in text.splitlines():
        if line.startswith("### "):
            names = line[4:].split(" — ")[0]
            current = [n.strip() for n in names.split(",")]
            for n in current:
                sections[n] = []
            continue
        if line.startswith("## "):
            current = "manifest" if line.strip() == "## manifest.json" else None
            continue
        if current == "manifest":
            manifest_lines.append(line)
        elif current:
            for n in current:
                sections[n].append(line)
    doc = {"tables": {}, "metrics": [], "manifest": {}}
    for name, lines in sections.items():
        columns = []
        for header, rows in _tables(lines):
            if header[0] == "column":
                assert header == ["column", "kind", "unit", "meaning"], (name, header)
                for r in rows:
                    for col in r[0].split(","):
                        columns.append({"name": col.strip().strip("`"), "kind": r[1],
                                        "unit": r[2], "optional": r[3].startswith("*optional*")})
            elif header[0] == "metric":
                assert header == ["metric", "unit", "command", "meaning"], header
                doc["metrics"] += [{"metric": r[0].replace("`", ""), "unit": r[1],
                                    "command": r[2]} for r in rows]
        doc["tables"][name] = columns
    for header, rows in _tables(manifest_lines):
        assert header == ["key", "written by", "meaning"], header
        for r in rows:
            by = {c.strip() for c in r[1].split(",")}
            assert by <= {"all", *COMMANDS}, (r[0], by)
            doc["manifest"][r[0]] = set(COMMANDS) if "all" in by else by
    return doc


@pytest.fixture(scope="module")
def doc():
    return parse_doc((ROOT / "docs" / "outputs.md").read_text(encoding="utf-8"))


def _metric_regex(pattern: str) -> re.Pattern:
    parts = PLACEHOLDER.split(pattern)
    return re.compile(".+?".join(re.escape(p) for p in parts))


# ------------------------------------------------------------------ real runs

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run folders by name, each made by the command line as a user would."""
    root = tmp_path_factory.mktemp("doc_runs")
    model = write_tiny(root / "model")
    text = model.read_text(encoding="utf-8")
    fold_text = (text.replace("start = 2009-03-02", "start = 2009-10-19")
                 .replace('mon = ["08:00", "12:00"]', 'sun = ["01:00", "04:00"]'))
    assert fold_text.count("2009-10-19") == 1 and 'sun = ["01:00", "04:00"]' in fold_text
    fold_model = model.with_name("fold.toml")
    fold_model.write_text(fold_text, encoding="utf-8")
    argv = {
        "optimise": ["optimise"],
        "optimise_day": ["optimise", "--sl-scope", "day"],
        "tiny": ["optimise", str(model)],
        "fold": ["optimise", str(fold_model)],
        "compare": ["compare", str(model), "--regimes", "R1,R2", "--offshore-caps", "0,1",
                    "--workers", "1"],
        "sweep": ["sweep", str(model), "--param", "service.sl_target=0.7,0.8", "--regimes",
                  "R0,R1", "--workers", "1"],
    }
    argv["capacity"] = ["capacity", str(write_small(root / "small", weeks=8))]
    out = {}
    for name, args in argv.items():
        out[name] = root / name
        assert main(args + ["--out", str(out[name])]) == 0, name
    # simulate adds its tables to the run folder it checks (no --out)
    assert main(["simulate", str(out["tiny"]), "--replications", "2", "--workers", "1"]) == 0
    return out


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def _written(run: Path) -> dict[str, list[str]]:
    """{table: columns in file order} from the CSV files of a run folder."""
    return {t: list(pd.read_csv(run / f"{t}.csv", nrows=0).columns) for t in _manifest(run)["tables"]}


def _check_tables(doc: dict, run: Path, params: tuple[str, ...] = ()) -> None:
    manifest = _manifest(run)
    written = _written(run)
    assert sorted(p.stem for p in run.glob("*.csv")) == sorted(written)
    for table, cols in written.items():
        assert table in doc["tables"], f"table {table!r} written by {run.name} has no section"
        documented = doc["tables"][table]
        assert documented, f"section {table!r} has no column table"
        expected = []
        for d in documented:
            if PLACEHOLDER.fullmatch(d["name"]):
                expected += list(params)
            elif d["name"] in cols or not d["optional"]:
                expected.append(d["name"])
        undocumented = [c for c in cols if c not in expected]
        assert not undocumented, f"{table}: columns written but not documented: {undocumented}"
        assert cols == expected, f"{table}: documented columns not written, or out of order"
        kinds = manifest["columns"][table]
        assert list(kinds) == cols
        if len(pd.read_csv(run / f"{table}.csv", nrows=1)):  # an empty table's kinds are guesses
            for d in documented:
                if d["name"] in kinds and d["kind"] in KINDS:
                    assert kinds[d["name"]] == d["kind"], (table, d["name"], kinds[d["name"]])


def _check_manifest(doc: dict, run: Path, commands: set[str]) -> None:
    keys = set(_manifest(run))
    undocumented = keys - set(doc["manifest"])
    assert not undocumented, f"manifest keys not documented: {sorted(undocumented)}"
    expected = {k for k, by in doc["manifest"].items() if by & commands}  # "all" holds them all
    assert expected <= keys, f"documented keys missing: {sorted(expected - keys)}"


def _check_metrics(doc: dict, run: Path, command: str) -> set[str]:
    """Every metric written matches a documented one of the command, unit included; returns
    the documented metrics seen."""
    summary = pd.read_csv(run / "summary.csv")
    mine = [m for m in doc["metrics"] if m["command"] == command]
    seen = set()
    for metric, unit in zip(summary["metric"], summary["unit"]):
        hits = [m for m in mine if _metric_regex(m["metric"]).fullmatch(metric)]
        assert hits, f"{command}: summary metric {metric!r} is not documented"
        # the most literal pattern wins: ...net_cost before ...<param>
        hits.sort(key=lambda m: -len(PLACEHOLDER.sub("", m["metric"])))
        assert unit == hits[0]["unit"], (metric, unit, hits[0]["unit"])
        seen.add(hits[0]["metric"])
    return seen


# ------------------------------------------------------------------ the checks

def test_doc_parses_into_every_section(doc):
    for table in ("requirements", "allocation", "coverage", "shifts", "tours", "providers",
                  "summary", "diagnostics", "plateau_economics", "regimes", "sweep",
                  "simulation", "simulation_summary"):
        cols = doc["tables"].get(table)
        assert cols and cols[0]["name"] == "scenario", table
        assert all(c["kind"] in KINDS or PLACEHOLDER.fullmatch(c["name"]) for c in cols), table
    assert {c["name"] for c in doc["tables"]["tours"]} >= {"mon", "sun", "paid_hours"}
    assert {m["command"] for m in doc["metrics"]} == {"optimise", "compare", "sweep"}


def test_optimise_slot_scope(doc, runs):
    run = runs["optimise"]
    _check_tables(doc, run)
    _check_manifest(doc, run, {"optimise"})
    seen = _check_metrics(doc, run, "optimise")
    # the default scenario writes every optimise metric (iptv has customers)
    assert seen == {m["metric"] for m in doc["metrics"] if m["command"] == "optimise"}
    assert "floor_agents" not in _written(run)["coverage"]


def test_optimise_day_scope(doc, runs):
    run = runs["optimise_day"]
    _check_tables(doc, run)
    _check_manifest(doc, run, {"optimise"})
    _check_metrics(doc, run, "optimise")
    assert "floor_agents" in _written(run)["coverage"]


def test_clock_change_adds_fold(doc, runs):
    run = runs["fold"]
    _check_tables(doc, run)
    written = _written(run)
    with_fold = {t for t, cols in written.items() if "fold" in cols}
    assert with_fold == {"demand", "requirements", "allocation", "coverage"}
    cov = pd.read_csv(run / "coverage.csv")
    assert sorted(cov["fold"].unique()) == [0, 1]
    assert "fold" not in _written(runs["tiny"])["coverage"]


def test_simulate_into_the_run_folder(doc, runs):
    run = runs["tiny"]
    _check_tables(doc, run)
    _check_manifest(doc, run, {"optimise", "simulate"})
    assert _manifest(run)["tables"][-2:] == ["simulation", "simulation_summary"]
    _check_metrics(doc, run, "optimise")


def test_compare(doc, runs):
    run = runs["compare"]
    _check_tables(doc, run)
    _check_manifest(doc, run, {"compare"})
    seen = _check_metrics(doc, run, "compare")
    # two regimes (the model's base R1 and active R2) and two caps: every headline
    assert seen == {m["metric"] for m in doc["metrics"] if m["command"] == "compare"}
    # the code's column list, not only this run's
    assert [c["name"] for c in doc["tables"]["regimes"]] == ["scenario"] + economics.REGIME_COLUMNS


def test_sweep(doc, runs):
    run = runs["sweep"]
    _check_tables(doc, run, params=(sweep.column_name("service.sl_target"),))
    _check_manifest(doc, run, {"sweep"})
    seen = _check_metrics(doc, run, "sweep")
    assert seen == {m["metric"] for m in doc["metrics"] if m["command"] == "sweep"}
    names = [c["name"] for c in doc["tables"]["sweep"]]
    assert names[0] == "scenario" and PLACEHOLDER.fullmatch(names[1])
    assert names[2:] == sweep.POINT_COLUMNS + ["status", "point_key"]


def test_every_optional_column_is_written_somewhere(doc, runs):
    written = {}
    for run in runs.values():
        for table, cols in _written(run).items():
            written.setdefault(table, set()).update(cols)
    for table, cols in doc["tables"].items():
        for c in cols:
            if c["optional"]:
                assert c["name"] in written.get(table, ()), (table, c["name"])


def test_a_column_without_documentation_fails(doc, runs, tmp_path):
    """The checks bite: a table with one more column than documented is refused."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs["tiny"], run)
    cov = pd.read_csv(run / "coverage.csv")
    cov["extra_agents"] = 1.0
    cov.to_csv(run / "coverage.csv", index=False)
    manifest = _manifest(run)
    manifest["columns"]["coverage"]["extra_agents"] = "float"
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(AssertionError, match="extra_agents"):
        _check_tables(doc, run)


def test_capacity(doc, runs):
    run = runs["capacity"]
    _check_tables(doc, run)
    _check_manifest(doc, run, {"capacity"})
    assert _manifest(run)["tables"] == ["capacity", "capacity_requirement", "capacity_summary"]
