"""`scalecalc count`, `list` and `show` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from reference import PUBLISHED
from typer.testing import CliRunner

from scalecalc.cli import app

runner = CliRunner()


def test_count_json_for_vit_b16() -> None:
    result = runner.invoke(app, ["count", "configs/vit_b16.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)
    assert record["params"] == 86_567_656 == PUBLISHED["vit_b16"][0]
    # by hand: patchify 196 x 768 x 3 x 16 x 16; per layer over 197 tokens qkv 768 x 2304,
    # q.k^T and attn.v 2 x 12 heads x 197 x 64 x 197, projection 768 x 768, MLP 2 x 768 x 3072;
    # classifier 768 x 1000 (torchvision's metadata prints 17.564 G)
    layer = 197 * 768 * 2304 + 2 * 12 * 197 * 64 * 197 + 197 * 768 * 768 + 2 * 197 * 768 * 3072
    flops = 196 * 768 * 3 * 16 * 16 + 12 * layer + 768 * 1000
    assert record["flops"] == flops == 17_563_828_224
    assert [s["name"] for s in record["stages"]] == ["stem", "stage1", "head"]


def test_count_csv_parts_sum_to_total() -> None:
    result = runner.invoke(app, ["count", "resnet50", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = [line.split(",") for line in result.stdout.splitlines()[1:]]
    parts, total = lines[:-1], lines[-1]
    assert total[4] == "total" and int(total[6]) == PUBLISHED["resnet50"][0]
    for column in (5, 6, 7):
        assert sum(int(p[column]) for p in parts) == int(total[column])


def test_count_markdown_and_fvcore_convention() -> None:
    result = runner.invoke(app, ["count", "resnet50", "--format", "md", "--convention", "fvcore"])
    assert result.exit_code == 0, result.output
    assert "| **total** | 4.112 | 25.557 | 11.115 |" in result.stdout


def test_count_writes_output_file(tmp_path: Path) -> None:
    out = tmp_path / "costs.json"
    result = runner.invoke(app, ["count", "resnet50", "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(out.read_text())[0]["params"] == PUBLISHED["resnet50"][0]


def test_count_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "costs.json"
    result = runner.invoke(app, ["count", "resnet50", "nope.yaml", "-f", "json", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == "error: nope.yaml: no such file\n"
    assert result.stdout == "" and not out.exists()


def test_count_bad_format_and_convention() -> None:
    result = runner.invoke(app, ["count", "resnet50", "--format", "xml"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'md', "
        "'json', 'csv'.\n",
    )
    result = runner.invoke(app, ["count", "resnet50", "--convention", "timm"])
    assert result.exit_code == 2 and "--convention" in result.stderr


def test_list_and_show() -> None:
    result = runner.invoke(app, ["list", "regnety*"])
    assert result.stdout.split() == [
        "regnety_16gf",
        "regnet",
        "regnety_400mf",
        "regnet",
        "regnety_4gf",
        "regnet",
    ]
    result = runner.invoke(app, ["show", "regnetx_400mf"])
    assert "widths: [32, 64, 160, 384]\n" in result.stdout


def test_table_format_into_a_file_keeps_stdout_clean(tmp_path: Path) -> None:
    out = tmp_path / "table.txt"
    result = runner.invoke(app, ["count", "resnet50", "-f", "table", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "25.557" in out.read_text()  # params (M), as published: 25,557,032
