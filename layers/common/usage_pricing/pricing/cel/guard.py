"""Static checks on an untrusted formula, run before either engine parses it.

Both parsers recurse on nesting (cel-python into Python's recursion limit, cel-cpp into its own
limit of 32) and comprehensions multiply work (three nested map() over 1,000 outputs is 10^9
steps). A single linear scan rejects those shapes in microseconds, with the same answer for
both engines, so neither engine ever sees them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from usage_pricing.core.errors import FormulaError
from usage_pricing.core.limits import MAX_COMPREHENSIONS, MAX_FORMULA_BYTES, MAX_FORMULA_DEPTH

COMPREHENSION_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# Names the engines use internally; a formula that could name them would see state the
# staged evaluation does not expose, so both engines would disagree.
RESERVED_PREFIX = "__"
RESERVED_NAMESPACES = frozenset({"cel"})

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f]+|//[^\n]*)
  | (?P<nl>\n)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"|'''|"|'))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<binary>\|\||&&|==|!=|<=|>=|[<>+*/%])
  | (?P<minus>-)
  | (?P<bang>!)
  | (?P<sep>[,:?])
  | (?P<dot>\.)
  | (?P<other>.)
    """,
    re.VERBOSE,
)


class _Frame:
    __slots__ = ("comprehension", "opener", "operators", "unary_run")

    def __init__(self, opener: str, comprehension: str | None) -> None:
        self.opener = opener
        self.comprehension = comprehension
        self.operators = 0
        self.unary_run = 0


class Token(NamedTuple):
    kind: str  # ident, number, string, open, close, binary, minus, bang, sep, dot, other
    text: str
    line: int
    column: int


def scan(source: str) -> Iterator[Token]:
    """The formula's tokens with 1-based positions; whitespace and // comments are skipped and
    a string literal is one token, so nothing inside it counts as structure."""
    line, line_start, pos = 1, 0, 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        assert match is not None  # the "other" branch matches any single character
        kind = match.lastgroup or "other"
        text = match.group()
        column = pos - line_start + 1
        if kind == "string":
            end = _string_end(source, match.end(), text)
            yield Token("string", source[pos:end], line, column)
            newlines = source.count("\n", pos, end)
            if newlines:
                line, line_start = line + newlines, source.rindex("\n", pos, end) + 1
            pos = end
            continue
        pos = match.end()
        if kind == "nl":
            line, line_start = line + 1, pos
        elif kind != "ws":
            yield Token("binary" if kind == "ident" and text == "in" else kind, text, line, column)


def check_formula(source: str, *, max_bytes: int = MAX_FORMULA_BYTES) -> None:
    """Raise FormulaError (phase "compile", with line/column) if the formula is too big, too deep,
    nests comprehensions, or names reserved identifiers."""
    size = len(source.encode("utf-8"))
    if size > max_bytes:
        raise FormulaError(
            f"formula is {size} bytes; the limit is {max_bytes} bytes", 1, 1, phase="compile"
        )
    stack: list[_Frame] = [_Frame("", None)]
    comprehensions = 0
    previous = Token("", "", 0, 0)
    for token in scan(source):
        kind, text, line, column = token.kind, token.text, token.line, token.column
        frame = stack[-1]
        if kind == "ident":
            if text.startswith(RESERVED_PREFIX):
                raise FormulaError(
                    f"identifiers starting with {RESERVED_PREFIX!r} are reserved",
                    line, column, phase="compile",
                )  # fmt: skip
            if text in RESERVED_NAMESPACES and previous.kind != "dot":
                raise FormulaError(
                    f"the {text!r} namespace is not available in pricing formulas",
                    line, column, phase="compile",
                )  # fmt: skip
        if kind == "open":
            macro = None
            if text == "(" and previous.kind == "ident" and previous.text in COMPREHENSION_MACROS:
                macro = previous.text
                enclosing = next(
                    (f.comprehension for f in reversed(stack) if f.comprehension), None
                )
                if enclosing:
                    raise FormulaError(
                        f"comprehensions cannot be nested: {macro}() inside {enclosing}()",
                        line, column, phase="compile",
                    )  # fmt: skip
                comprehensions += 1
                if comprehensions > MAX_COMPREHENSIONS:
                    raise FormulaError(
                        f"a formula may use at most {MAX_COMPREHENSIONS} comprehensions",
                        line, column, phase="compile",
                    )  # fmt: skip
            stack.append(_Frame(text, macro))
        elif kind == "close":
            if len(stack) > 1:
                stack.pop()
        elif kind in ("binary", "minus"):
            if kind == "minus" and previous.kind in ("", "open", "sep", "binary", "minus", "bang"):
                frame.unary_run += 1
            else:
                frame.operators += 1
                frame.unary_run = 0
        elif kind == "bang":
            frame.unary_run += 1
        elif kind == "sep":
            frame.operators = 0
            frame.unary_run = 0
        elif kind in ("ident", "number", "string"):
            frame.unary_run = 0
        # An upper bound on the parse tree's depth: every open bracket, every binary operator
        # chained at one level and every prefix operator adds a level.
        depth = sum(1 + f.operators + f.unary_run for f in stack) - 1
        if depth > MAX_FORMULA_DEPTH:
            raise FormulaError(
                f"formula nests deeper than {MAX_FORMULA_DEPTH} levels",
                line, column, phase="compile",
            )  # fmt: skip
        previous = token
    check_patterns(source)


def _string_end(source: str, start: int, opener: str) -> int:
    quote = opener.lstrip("rRbB")
    raw = any(c in "rR" for c in opener[: len(opener) - len(quote)])
    pos = start
    while pos < len(source):
        if source.startswith(quote, pos):
            return pos + len(quote)
        if source[pos] == "\\" and not raw:
            pos += 2
            continue
        if source[pos] == "\n" and len(quote) == 1:
            break
        pos += 1
    # Unterminated: let the engine's parser report it with its own position.
    return len(source)


def max_source_bytes(scope: str) -> int:
    # A plain-text description (itself ≤ 4 KB) is stored as a CEL literal; escaping can grow it
    # up to 6x (\u00XX per control character), and that literal must still compile.
    return 6 * MAX_FORMULA_BYTES + 2 if scope == "description" else MAX_FORMULA_BYTES


# RE2 compiles a pattern into a program that grows with repeat counts and Unicode classes
# ('\pL{300}' takes ~220 ms to compile, and cel-expr compiles on every call): a pattern must be
# a literal whose estimated program stays small.
MAX_REGEX_COST = 5_000
_UNICODE_CLASS_COST = 400


def literal_text(token: str) -> str:
    """The text of a CEL string literal token, close enough to bound a regex: prefixes and
    quotes removed, and in a non-raw literal an escaped backslash read as one."""
    prefix = len(token) - len(token.lstrip("rRbB"))
    raw = "r" in token[:prefix].lower()
    body = token[prefix:]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    text = body[len(quote) : len(body) - len(quote) if body.endswith(quote) else len(body)]
    return text if raw else text.replace("\\\\", "\\")


def regex_cost(pattern: str) -> int:
    """An upper bound on the size of RE2's program for `pattern`: each atom's cost, times the
    repeat counts applied to it or to the groups around it."""
    frames = [[0, 0]]  # per open group: [total so far, cost of the last atom]
    position = 0
    while position < len(pattern):
        char = pattern[position]
        atom = 1
        if char == "\\":
            following = pattern[position + 1 : position + 2]
            if following in ("p", "P"):
                close = (
                    pattern.find("}", position)
                    if pattern[position + 2 : position + 3] == "{"
                    else -1
                )
                position = close + 1 if close != -1 else position + 3
                atom = _UNICODE_CLASS_COST
            else:
                position += 2
                atom = 4 if following in "dDwWsS" else 1
        elif char == "[":
            close = pattern.find("]", position + 2)
            close = len(pattern) - 1 if close == -1 else close
            content = pattern[position + 1 : close]
            atom = (
                1
                + len(content)
                + _UNICODE_CLASS_COST * (content.count("\\p") + content.count("\\P"))
            )
            position = close + 1
        elif char == "(":
            frames.append([0, 0])
            position += 1
            continue
        elif char == ")":
            position += 1
            if len(frames) == 1:
                continue
            atom = frames.pop()[0] + 1
        elif char in "*+?":
            frames[-1][0] += frames[-1][1]
            position += 1
            continue
        elif char == "{":
            close = pattern.find("}", position)
            counts = pattern[position + 1 : close].split(",") if close != -1 else []
            if (
                counts
                and all(c.strip().isdigit() or c.strip() == "" for c in counts)
                and counts[0].strip()
            ):
                highest = max(int(c) for c in counts if c.strip())
                frames[-1][0] += frames[-1][1] * max(highest, 1)
                position = close + 1
                continue
            position += 1
        elif char == "|":
            position += 1
            continue
        else:
            position += 1
            atom = 8 if char == "." else 1
        frames[-1][0] += atom
        frames[-1][1] = atom
    return sum(frame[0] for frame in frames)


def check_patterns(source: str) -> None:
    """Raise FormulaError unless every matches() call has a literal pattern of bounded cost."""
    tokens = list(scan(source))
    partner = matching_brackets(tokens)
    for index, token in enumerate(tokens):
        if token.text != "matches" or index + 1 >= len(tokens) or tokens[index + 1].text != "(":
            continue
        argument = last_argument(tokens, index + 1, partner)
        if len(argument) != 1 or argument[0].kind != "string":
            raise FormulaError(
                "matches() needs a string literal pattern",
                token.line,
                token.column,
                phase="compile",
            )
        cost = regex_cost(literal_text(argument[0].text))
        if cost > MAX_REGEX_COST:
            raise FormulaError(
                f"the regular expression is too complex (estimated {cost:,} > {MAX_REGEX_COST:,})",
                argument[0].line, argument[0].column, phase="compile",
            )  # fmt: skip


def matching_brackets(tokens: list[Token]) -> dict[int, int]:
    """Each bracket's partner, both ways (index of `(` → index of its `)` and back). An
    unmatched bracket has none."""
    partner: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind == "open":
            stack.append(index)
        elif token.kind == "close" and stack:
            opened = stack.pop()
            partner[opened] = index
            partner[index] = opened
    return partner


def last_argument(
    tokens: list[Token], open_index: int, partner: dict[int, int] | None = None
) -> list[Token]:
    """The tokens of a call's last argument: after the last top-level comma, up to the call's
    closing bracket (the end of the formula if it has none)."""
    partner = matching_brackets(tokens) if partner is None else partner
    close = partner.get(open_index, len(tokens))
    start = position = open_index + 1
    while position < close:
        if tokens[position].kind == "open":
            if position not in partner:
                break  # unclosed (so is this call): nothing after it is this call's argument
            position = partner[position]  # a nested bracket: its commas are not this call's
        elif tokens[position].text == ",":
            start = position + 1
        position += 1
    return tokens[start:close]
