"""Find the visible text of a Django template that is not inside a translation tag: text between HTML tags and the
values of the attributes people read (title, alt, placeholder, aria-label), skipping what is already translated
({% translate %}, {% blocktranslate %}), comments, verbatim blocks, scripts and styles. Used by the test that keeps
every user-facing template string translatable."""

import re
from dataclasses import dataclass, field

from django.template.base import DebugLexer, TokenType

READ_ATTRIBUTES = frozenset({"title", "alt", "placeholder", "aria-label"})
# Blocks whose content is not visible text to translate: already translated, or not text at all.
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}
SKIPPED_ELEMENTS = frozenset({"script", "style"})
LETTER = re.compile(r"[^\W\d_]")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|\w+);")
# Filters whose string argument is shown as it is: {{ x|default:"none" }}.
SHOWN_ARGUMENT = re.compile(r"\|\s*(default|default_if_none|yesno)\s*:\s*(\"[^\"]*\"|'[^']*')")


@dataclass
class Run:
    """Consecutive text and {{ variables }} of one text node or attribute value, with their source offsets."""

    start: int
    end: int = 0
    parts: list = field(default_factory=list)  # ("text", str) or ("var", expression)
    attribute: str = ""

    @property
    def text(self) -> str:
        return "".join(value for kind, value in self.parts if kind == "text")

    @property
    def visible(self) -> bool:
        return bool(LETTER.search(ENTITY.sub("", self.text)))


def template_runs(source: str) -> list[Run]:
    """Every run of visible text in `source` outside translation tags (those with letters are the untranslated)."""
    runs: list[Run] = []
    current: Run | None = None
    skip_until = ""
    in_tag = False
    quote = ""
    attribute = ""
    tag_name = ""
    closing_tag = False
    element_skip = ""

    def close(at: int) -> None:
        nonlocal current
        if current is not None and current.parts:
            current.end = at
            runs.append(current)
        current = None

    for token in DebugLexer(source).tokenize():
        start, end = token.position
        if skip_until:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == skip_until:
                skip_until = ""
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in SKIPPED_BLOCKS:
                close(start)
                skip_until = SKIPPED_BLOCKS[name]
            elif not (in_tag and quote):
                close(start)
            elif current is not None:
                close(start)  # a tag inside an attribute value ends what can be a single message
            continue
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.VAR:
            if element_skip:
                continue
            if (in_tag and quote and attribute in READ_ATTRIBUTES) or not in_tag:
                if current is None:
                    current = Run(start=start, attribute=attribute if in_tag else "")
                current.parts.append(("var", token.contents))
            continue
        # Text: walk it character by character, tracking tags and attribute values.
        text = token.contents
        index = 0
        while index < len(text):
            char = text[index]
            position = start + index
            if element_skip:
                closing = f"</{element_skip}"
                found = text.lower().find(closing, index)
                if found == -1:
                    break
                element_skip = ""
                index = found
                continue
            if not in_tag:
                if char == "<" and (text[index + 1 : index + 2].isalpha() or text[index + 1 : index + 2] in "/!"):
                    close(position)
                    if text.startswith("<!--", index):
                        finish = text.find("-->", index)
                        index = len(text) if finish == -1 else finish + 3
                        continue
                    in_tag = True
                    match = re.match(r"<(/?)([A-Za-z][\w-]*)", text[index:])
                    closing_tag = bool(match and match.group(1))
                    tag_name = match.group(2).lower() if match else ""
                    attribute = ""
                    index += 1
                    continue
                if current is None:
                    current = Run(start=position)
                if current.parts and current.parts[-1][0] == "text":
                    current.parts[-1] = ("text", current.parts[-1][1] + char)
                else:
                    current.parts.append(("text", char))
                index += 1
                continue
            # Inside a tag.
            if quote:
                if char == quote:
                    close(position)
                    quote = ""
                elif attribute in READ_ATTRIBUTES:
                    if current is None:
                        current = Run(start=position, attribute=attribute)
                    if current.parts and current.parts[-1][0] == "text":
                        current.parts[-1] = ("text", current.parts[-1][1] + char)
                    else:
                        current.parts.append(("text", char))
                index += 1
                continue
            if char in "\"'":
                quote = char
                before = re.search(r"([\w-]+)\s*=\s*$", text[:index])
                attribute = before.group(1).lower() if before else ""
            elif char == ">":
                in_tag = False
                if tag_name in SKIPPED_ELEMENTS and not closing_tag:
                    element_skip = tag_name
            index += 1
    close(len(source))
    return runs


def untranslated(source: str) -> list[str]:
    """The untranslated visible strings of a template, each as `line N: text`."""
    found = []
    for run in template_runs(source):
        if run.visible:
            line = source.count("\n", 0, run.start) + 1
            where = f" ({run.attribute})" if run.attribute else ""
            found.append(f"line {line}{where}: {' '.join(run.text.split())}")
    for match in re.finditer(r"\{\{(.*?)\}\}", source):
        for argument in SHOWN_ARGUMENT.finditer(match.group(1)):
            if LETTER.search(argument.group(2)):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"line {line}: {argument.group(1)} shows {argument.group(2)}")
    return found
