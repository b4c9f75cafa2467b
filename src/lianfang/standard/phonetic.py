"""The sound of a name: toneless pinyin, so 张伟 and 张玮 (both ``zhang wei``) meet.

A name field marked ``phonetic: true`` in the standard is stored with a second blind
index over this key (``<field>_pybidx``), beside the exact one: search matches the
exact name first and names that sound the same as weaker matches, without the name
ever being stored or compared in clear. Polyphonic characters take pypinyin's
reading in context; letters and digits (foreign names) are kept, lower-cased; the
middle dot and other punctuation are dropped.
"""

from __future__ import annotations


def phonetic_key(name: str) -> str:
    """``"zhang wei"`` for 张伟 and 张玮; ``""`` when nothing pronounceable is left."""
    # imported on first use: its dictionaries take a fifth of a second to load, which every
    # process paid at start (the command line, ingestion workers) whether it met a name or not
    from pypinyin import Style, lazy_pinyin

    parts = lazy_pinyin(name, style=Style.NORMAL, errors="default")
    out = []
    for part in parts:
        for word in part.lower().split():
            token = "".join(c for c in word if c.isascii() and c.isalnum())
            if token:
                out.append(token)
    return " ".join(out)


__all__ = ["phonetic_key"]
