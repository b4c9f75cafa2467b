"""XML: ``<Records>`` with one ``<Record>`` per record; a column named ``@x`` is an attribute."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lianfang.demo.writers.base import CannotDamage, Lines, Row
from lianfang.demo.writers.templates import Templates, is_number


def _text(value: object) -> str:
    text = str(value)
    return escape(text) if ("&" in text or "<" in text or ">" in text) else text


class XmlWriter(CannotDamage):
    def __init__(self, path: Path, names: tuple[str, ...], *, root_attrs: str = ""):
        self._lines = Lines(path.open("wb"), "utf-8")
        self._attrs = [(i, n[1:]) for i, n in enumerate(names) if n.startswith("@")]
        self._children = [(i, n) for i, n in enumerate(names) if not n.startswith("@")]
        self._lines.add(f'<?xml version="1.0" encoding="UTF-8"?>\n<Records{root_attrs}>\n')
        self._fast = Templates(self._template, counted='<>"')

    def _template(self, types: tuple[Any, ...]) -> tuple[str, tuple[int, ...]] | None:
        if any(t is not type(None) and t is not str and not is_number(t) for t in types):
            return None
        attrs = "".join(f' {name}="%s"' for i, name in self._attrs if types[i] is not type(None))
        body = "".join(f"<{name}>%s</{name}>" for i, name in self._children if types[i] is not type(None))
        slots = [i for i, _ in self._attrs if types[i] is not type(None)]
        slots += [i for i, _ in self._children if types[i] is not type(None)]
        return f"<Record{attrs}>{body}</Record>", tuple(slots)

    def write(self, row: Row) -> None:
        line = self._fast.fill(row)
        if line is None:
            line = self._careful(row)
        self._lines.add(line + "\n")
        if self._lines.full():
            self._lines.flush()

    def row_template(self, row: Row) -> tuple[str, tuple[int, ...]] | None:
        shape = self._fast.shape(row)
        if shape is None:
            return None
        template, order = shape
        ok = template % tuple(row[i] for i in order) == self._careful(row)
        return (template + "\n", order) if ok else None

    def fast_write(self, template: str, values: tuple[Any, ...]) -> None:
        self._lines.add(template % values)
        if self._lines.full():
            self._lines.flush()

    def _careful(self, row: Row) -> str:
        attrs = "".join(f" {name}={quoteattr(str(row[i]))}" for i, name in self._attrs if row[i] is not None)
        body = "".join(f"<{name}>{_text(row[i])}</{name}>" for i, name in self._children
                       if row[i] is not None)
        return f"<Record{attrs}>{body}</Record>"

    def close(self) -> None:
        self._lines.add("</Records>\n")
        self._lines.close()
