"""Figures and ranges stated in docs/scenario.md agree with what the code does."""

import re
from pathlib import Path

from staffing.cli import main
from staffing.scenario import _TARGET_RANGES

DOC = Path(__file__).resolve().parents[1] / "docs" / "scenario.md"


def test_target_ranges_in_the_doc_are_the_loaders():
    text = DOC.read_text(encoding="utf-8")
    for key, (low, high, low_open, high_open) in _TARGET_RANGES.items():
        if high is None:
            continue
        row = re.search(rf"^\| `{key}` \| share in ([\[(])(\S+), (\S+?)([\])]) \|", text, re.M)
        assert row, key
        assert (row[1] == "(", row[4] == ")") == (low_open, high_open), key
        assert (float(row[2]), float(row[3])) == (low, high), key


def test_default_week_agent_hours_as_stated(tmp_path, capsys):
    text = DOC.read_text(encoding="utf-8")
    stated = re.search(r"The week needs ([\d,]+) agent-hours", text)
    calls = re.search(r"with ([\d,]+) calls\)", text)
    assert stated and calls
    assert main(["requirements", "--output", str(tmp_path / "r.csv")]) == 0
    out = capsys.readouterr().out
    assert f"{stated[1]} agent-hours" in out and f"{calls[1]} calls" in out
