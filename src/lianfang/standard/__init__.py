"""The unified data standard (治安数据标准): categories, fields, levels and value types.

Pure: no I/O beyond reading this package's own YAML files.
"""

from lianfang.standard.levels import Level, parse_level
from lianfang.standard.loader import StandardError, load_standard
from lianfang.standard.model import Category, CodeTable, Field, Label, Standard

__all__ = [
    "Category",
    "CodeTable",
    "Field",
    "Label",
    "Level",
    "Standard",
    "StandardError",
    "load_standard",
    "parse_level",
]
