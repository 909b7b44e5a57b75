"""How a long run reports as it goes, to whoever runs it: the command line, or a caller."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scalecalc.sweep import Sweep

# progress(verb, total, log) opens a progress report; it is called with (done, key) per model.
Progress = Callable[[str, int, bool], AbstractContextManager[Callable[[int, str], None]]]


@dataclass(frozen=True)
class Hooks:
    """What a run of a sweep calls as it goes: `warn` and `info` with one line each,
    `progress` around its longest loop, and `check_outputs` once the sweep is known and
    before any work, to refuse an output that would replace one of its files."""

    warn: Callable[[str], None]
    info: Callable[[str], None]
    progress: Progress
    check_outputs: Callable[[Sweep], None]
