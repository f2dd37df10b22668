"""Problems as a person reads them: "Subject › Date of birth" rather than a dotted path."""
from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(r"^(?P<field>[^:\s]+): (?P<message>.*?)(?: \[(?P<code>[A-Z0-9_-]+)\])?$")
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class ProblemText:
    field: str
    message: str
    code: str = ""


def parse_problem_line(line: str) -> ProblemText:
    """Split the "field: message [CODE]" lines the order list carries."""
    m = _LINE.match(line.strip())
    if not m:
        return ProblemText(field="", message=line.strip())
    return ProblemText(field=m["field"], message=m["message"], code=m["code"] or "")


def field_label(path: str) -> str:
    """``subject.addresses[0].postcode`` -> ``Subject › Address 1 › Postcode``."""
    if not path:
        return ""
    parts = []
    for part in path.split("."):
        index = _INDEX.search(part)
        name = _INDEX.sub("", part)
        word = name.replace("_", " ").strip()
        if index:
            word = word[:-2] if word.endswith("es") and word.endswith("sses") else word.rstrip("s")
            word = f"{word} {int(index.group(1)) + 1}"
        parts.append(word[:1].upper() + word[1:])
    return " › ".join(parts)
