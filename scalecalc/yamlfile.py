"""YAML files of models and sweeps in and out: the safe loader with its limits, and the one style
models are written in. Its own module so that commands reading no YAML file start without
importing yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scalecalc.errors import ConfigError, shown
from scalecalc.files import read_text
from scalecalc.inputs import is_text

MAX_FILE_BYTES = 1 << 20
# A 1 MiB file written out holds fewer values than this; only aliases can expand past it.
MAX_VALUES = 1 << 20
# Longer integers are typos or attacks, and Python refuses to read those of over 4300 digits.
MAX_NUMBER_CHARS = 100


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key twice, over-long integers and text no output can write."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = self.construct_object(key_node)
                if key in first:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {shown(key)} appears twice (first at line {first[key].line + 1})",
                        key_node.start_mark,
                    )
                first[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a number of {len(node.value)} characters; at most {MAX_NUMBER_CHARS} are read",
                node.start_mark,
            )
        return super().construct_yaml_int(node)

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        text = super().construct_yaml_str(node)
        if not is_text(text):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a string with a lone surrogate escape (such as \\ud800)",
                node.start_mark,
            )
        return text


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_yaml_str)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file safely (no Python objects, no key twice, aliases expanding to at most
    MAX_VALUES values), with size and syntax errors as ConfigError."""
    text = read_text(path, MAX_FILE_BYTES, ConfigError, "a YAML file")
    try:
        data = yaml.load(text, Loader=_Loader)  # a subclass of SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: YAML error{where}: {error.problem or error}") from None
    except (yaml.YAMLError, RecursionError) as error:
        raise ConfigError(f"{path}: YAML error: {str(error).splitlines()[0]}") from None
    if _expanded_size(data, {}) > MAX_VALUES:
        raise ConfigError(
            f"{path}: YAML aliases expand to more than {MAX_VALUES} values; write the values out"
        )
    return data


def _expanded_size(value: Any, sizes: dict[int, int]) -> int:
    """Values in `value` with every alias expanded; an aliased node is sized once (`sizes`)."""
    if not isinstance(value, (list, dict)):
        return 1
    if id(value) not in sizes:
        children = value.values() if isinstance(value, dict) else value
        sizes[id(value)] = 1 + sum(_expanded_size(child, sizes) for child in children)
    return sizes[id(value)]


def dump_mapping(fields: dict[str, Any]) -> str:
    """YAML text for a model's fields, in the style every family shares."""
    return yaml.dump(fields, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


class _Dumper(yaml.SafeDumper):
    """One style for every family: block mappings, lists inline (`depths: [3, 4, 6, 3]`)."""


def _inline_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(list, _inline_list)
