"""The optional torch layer: whether torch (and fvcore) can be imported, and the one-line error
naming the extra to install when they cannot. Checks without importing either."""

from __future__ import annotations

import importlib.util

from scalecalc.errors import ScalecalcError

TORCH_EXTRA = "pip install 'scalecalc[torch]'"


class TorchUnavailableError(ScalecalcError, ImportError):
    """torch (or fvcore) is not installed; also an ImportError, for code that catches those."""


def installed(module: str) -> bool:
    """Whether `module` can be found by the import system, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it; a module without a spec
        return False


def require_torch(what: str, fvcore: bool = False) -> None:
    """TorchUnavailableError naming `what` unless torch (and fvcore, if asked) is installed."""
    missing = [name for name in ("torch", "fvcore")[: 2 if fvcore else 1] if not installed(name)]
    if missing:
        raise TorchUnavailableError(
            f"{what} needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed; install the torch extra: {TORCH_EXTRA}"
        )
