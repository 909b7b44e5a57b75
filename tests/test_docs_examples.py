"""Every example of README.md and docs/*.md runs and prints what the page shows; links resolve.

After a deliberate change in behaviour, `python tests/docs_examples.py --update` rewrites the
shown outputs from real runs (see that module for the block forms and the normalisation).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from docs_examples import (
    ROOT,
    Block,
    blocks,
    documents,
    examples,
    rendered,
    shown,
    unexplained_commands,
    update,
)

EXAMPLES = examples()
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _param(block: Block):
    marks = [pytest.mark.slow] if block.slow else []
    return pytest.param(block, id=block.where, marks=marks)


@pytest.mark.parametrize("block", [_param(block) for block in EXAMPLES])
def test_example_prints_what_the_page_shows(block: Block):
    assert "\n".join(rendered(block)) == "\n".join(shown(block)), (
        f"{block.where}: run `python tests/docs_examples.py --update` if the change is deliberate"
    )


def test_readme_and_every_page_have_examples():
    pages = {block.path.name for block in EXAMPLES}
    assert "README.md" in pages
    assert {"index.md", "cli.md", "counting.md"} <= pages


def test_every_shell_block_runs_or_says_why_not():
    assert unexplained_commands() == []


STALE_PAGE = """Intro.

```console
$ scalecalc show resnet50 | head -n 2
name: resnet50
family: wrong
$ scalecalc show ./missing.yaml
$ echo $?
7
```

```pycon
>>> import scalecalc
>>> scalecalc.load("resnet50").spec.depths
[0]
```
"""


def test_a_wrong_output_is_found_and_update_rewrites_it(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text(STALE_PAGE, encoding="utf-8")
    monkeypatch.setattr("docs_examples.ROOT", tmp_path)
    found = blocks(page)
    assert [block.lang for block in found] == ["console", "pycon"]
    assert all(rendered(block) != shown(block) for block in found)
    assert update(page) == 2
    fresh = (
        STALE_PAGE.replace("family: wrong", "family: resnet")
        .replace("$ echo $?\n7", "error: missing.yaml: no such file\n$ echo $?\n2")
        .replace("[0]", "(3, 4, 6, 3)")
    )
    assert page.read_text(encoding="utf-8") == fresh
    assert all(rendered(block) == shown(block) for block in blocks(page))


def test_an_unexplained_skip_is_not_a_skip(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- example: not executed: needs a GPU -->\n```console\n$ scalecalc bench\n```\n\n"
        "<!-- example: not executed -->\n```bash\nscalecalc bench\n```\n",
        encoding="utf-8",
    )
    first, second = blocks(page)
    assert first.marker == "not executed: needs a GPU" and not first.executed
    assert second.marker == "" and second.lang == "bash"


def _slug(heading: str) -> str:
    """The anchor that mkdocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"`|\*\*?", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path: Path) -> set[str]:
    outside = True
    found = set()
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("```"):
            outside = not outside
        elif outside and line.startswith("#"):
            found.add(_slug(line.lstrip("#")))
    return found


@pytest.mark.parametrize("path", documents(), ids=lambda path: path.name)
def test_every_relative_link_resolves(path: Path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists() or (anchor and anchor not in _anchors(destination)):
            broken.append(target)
    assert broken == []


def test_docs_name_only_files_of_the_repository():
    """Paths of the form `configs/...`, `tests/...` in the pages exist (placeholders aside)."""
    missing = set()
    folders = "configs|tests|benchmarks|scalecalc|data|docs"
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for name in re.findall(rf"`((?:{folders})/[^`\s*<]+)`", text):
            if not (ROOT / name.split("::")[0]).exists():
                missing.add(name)
    assert missing == set()
