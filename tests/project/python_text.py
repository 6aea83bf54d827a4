"""Find the user-facing strings of the project's Python code that do not go through a translation function: string
literals (plain, f-strings, "…" % x, "…".format(), concatenations) handed to the places whose text reaches a person.

Those places are: messages.success/error/… (django.contrib.messages), form.add_error, the refusals raised to users
(Refused and its subclasses, PermissionDenied, Http404, ValidationError, DRF's NotFound/ParseError/…, their
`default_detail` and the `message` of DRF permissions), a "detail" in an API error body, the label, help text and
choices of form and model fields, model verbose names, the labels of TextChoices/IntegerChoices members, and e-mail
subjects and bodies. A variable is not judged here (its text is made elsewhere, where this check finds it). Used by
the test that keeps every user-facing Python string translatable."""

import ast
import re
from dataclasses import dataclass

TRANSLATORS = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "ngettext",
        "ngettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "npgettext",
        "npgettext_lazy",
    }
)
# Exceptions whose message is shown to a person; subclasses defined in the scanned code are added as found.
USER_EXCEPTIONS = frozenset(
    {
        "Refused",
        "PermissionDenied",
        "Http404",
        "ValidationError",
        "APIException",
        "NotFound",
        "ParseError",
        "AuthenticationFailed",
        "NotAuthenticated",
        "NotAcceptable",
        "UnsupportedMediaType",
        # The project's own, shown to people though they are not refusals of a request.
        "PreviewUnavailable",
        "IntegrityAlarm",
    }
)
MESSAGE_LEVELS = frozenset({"debug", "info", "success", "warning", "error"})
# Keyword arguments of form and model fields (and of their widgets' choices) that a person reads.
FIELD_TEXT_KEYWORDS = frozenset({"label", "help_text", "empty_label", "verbose_name", "verbose_name_plural"})
FIELD_MODULES = frozenset({"forms", "models"})
CHOICES_BASES = frozenset({"TextChoices", "IntegerChoices", "Choices"})
MAIL_FUNCTIONS = {"send_mail": (0, 1), "EmailMessage": (0, 1), "EmailMultiAlternatives": (0, 1), "mail_admins": ()}
LETTER = re.compile(r"[^\W\d_]")
# A placeholder's letters are not words: "%(count)d", "%s", "{name}".
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]|%[a-zA-Z]|\{\w*\}")


@dataclass(frozen=True)
class Untranslated:
    line: int
    where: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line} ({self.where}): {self.text}"


def _name(node: ast.AST) -> str:
    """The last part of a called name: `gettext` for `translation.gettext`, `Http404` for `Http404`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _base_name(node: ast.AST) -> str:
    """The first part of a dotted name: `forms` for `forms.CharField`."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _is_super(func: ast.AST) -> bool:
    """`super().__init__`: the call's function is an attribute of super()."""
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _name(func.value.func) == "super"


def literal_text(node: ast.AST | None) -> str | None:
    """The visible text of an expression made of string literals outside any translation call, else None (a
    translated string, a variable, a number)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) and _has_words(node.value) else None
    if isinstance(node, ast.JoinedStr):
        text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        return text if _has_words(text) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return literal_text(node.left) or literal_text(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return literal_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return literal_text(node.func.value)
    if isinstance(node, ast.IfExp):
        return literal_text(node.body) or literal_text(node.orelse)
    # ValidationError({"field": ["…"]}): the messages by field.
    parts = node.values if isinstance(node, ast.Dict) else node.elts if isinstance(node, ast.List) else []
    return next((text for text in map(literal_text, parts) if text is not None), None)


def _has_words(text: str) -> bool:
    return LETTER.search(PLACEHOLDER.sub("", text)) is not None


def _argument(call: ast.Call, position: int, *keywords: str) -> ast.AST | None:
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return next((keyword.value for keyword in call.keywords if keyword.arg in keywords), None)


def user_exception_names(trees: list[ast.Module]) -> frozenset[str]:
    """USER_EXCEPTIONS and every class of the scanned code deriving from one of them, however deep."""
    names = set(USER_EXCEPTIONS)
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grown = True
    while grown:
        grown = False
        for node in classes:
            if node.name not in names and any(_name(base) in names for base in node.bases):
                names.add(node.name)
                grown = True
    return frozenset(names)


class _Finder(ast.NodeVisitor):
    def __init__(self, exceptions: frozenset[str]):
        self.exceptions = exceptions
        self.found: list[Untranslated] = []
        self.classes: list[ast.ClassDef] = []

    def _check(self, node: ast.AST | None, where: str) -> None:
        text = literal_text(node)
        if text is not None:
            self.found.append(Untranslated(node.lineno, where, text))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {_name(base) for base in node.bases}
        for statement in node.body:
            if not isinstance(statement, ast.Assign | ast.AnnAssign):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names = {_name(target) for target in targets}
            if bases & CHOICES_BASES and isinstance(statement.value, ast.Tuple) and len(statement.value.elts) > 1:
                self._check(statement.value.elts[-1], f"{node.name} choice label")
            if (node.name == "Meta" or "AppConfig" in bases) and names & {"verbose_name", "verbose_name_plural"}:
                self._check(statement.value, f"{node.name} verbose name")
            if "default_detail" in names:
                self._check(statement.value, f"{node.name}.default_detail")
            if "message" in names and any(base.endswith("Permission") for base in bases):
                self._check(statement.value, f"{node.name}.message")
        self.classes.append(node)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        base = _base_name(node.func)
        if base == "messages" and name in MESSAGE_LEVELS:
            self._check(_argument(node, 1, "message"), f"messages.{name}")
        elif base == "messages" and name == "add_message":
            self._check(_argument(node, 2, "message"), "messages.add_message")
        elif name == "add_error":
            self._check(_argument(node, 1, "error"), "add_error")
        elif name in self.exceptions:
            self._check(_argument(node, 0, "message", "detail"), name)
        elif name == "__init__" and _is_super(node.func):
            if self.classes and any(_name(base) in self.exceptions for base in self.classes[-1].bases):
                self._check(_argument(node, 0, "message", "detail"), f"{self.classes[-1].name} message")
        elif name in MAIL_FUNCTIONS:
            for position in MAIL_FUNCTIONS[name]:
                self._check(_argument(node, position, ("subject", "message", "body")[position]), name)
        if base in FIELD_MODULES and name != "ValidationError":
            for keyword in node.keywords:
                if keyword.arg in FIELD_TEXT_KEYWORDS:
                    self._check(keyword.value, f"{name} {keyword.arg}")
                elif keyword.arg == "choices" and isinstance(keyword.value, ast.List | ast.Tuple):
                    for choice in keyword.value.elts:
                        if isinstance(choice, ast.Tuple) and len(choice.elts) == 2:
                            self._check(choice.elts[1], f"{name} choice label")
                elif keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                    for value in keyword.value.values:
                        self._check(value, f"{name} error message")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "detail":
                self._check(value, "detail of an API body")
        self.generic_visit(node)


def untranslated_in_trees(trees: dict[str, ast.Module]) -> dict[str, list[str]]:
    """For each named module with any, its untranslated user-facing strings as "line N (where): text"."""
    exceptions = user_exception_names(list(trees.values()))
    found = {}
    for name, tree in trees.items():
        finder = _Finder(exceptions)
        finder.visit(tree)
        if finder.found:
            found[name] = [str(item) for item in sorted(finder.found, key=lambda item: item.line)]
    return found


def untranslated(source: str) -> list[str]:
    """The untranslated user-facing strings of one module's source (its own exception classes included)."""
    return untranslated_in_trees({"source": ast.parse(source)}).get("source", [])
