"""The shape of a formula for the work budget (usage_pricing.pricing.cel.budget): its leaves, the
comprehensions around them and the calls whose cost is a product, read from the guard's tokens
once per formula source (`shape_of`)."""

import functools

from usage_pricing.pricing.cel.guard import (
    COMPREHENSION_MACROS,
    MAX_REGEX_COST,
    Token,
    last_argument,
    literal_text,
    matching_brackets,
    regex_cost,
    scan,
)

_QUADRATIC_METHODS = frozenset({"contains", "matches"})
# Operators and calls whose cost grows with their operands (concatenation, comparison, membership,
# and every helper that hands a list or map to Python). Arithmetic, logic, field access, size()
# and the scalar helpers are O(1) and do not count.
_WALKING_OPERATORS = frozenset({"+", "==", "!=", "<", "<=", ">", ">=", "in"})
# size() of a string counts its code points.
_WALKING_METHODS = frozenset({"contains", "matches", "startsWith", "endsWith", "size"})
_WALKING_FUNCTIONS = frozenset({"size", "matches"})
_WALKING_HELPERS = frozenset(
    {
        "text_tokens", "image_count", "video_seconds", "audio_seconds", "count_type", "first",
        "get", "get_extra", "get_bool", "get_string", "sum", "string", "bytes", "dyn",
    }
)  # fmt: skip


class Leaf:
    """A name path (`task_inputs.prompt`, `o.extra`) or a literal of fixed size."""

    __slots__ = (
        "path",
        "units",
    )

    def __init__(self, path: tuple[str, ...] = (), units: int = 0) -> None:
        self.path = path
        self.units = units


class Context:
    """Leaves evaluated together: the formula outside comprehensions, or one comprehension's body
    (evaluated once per element)."""

    __slots__ = ("helpers", "leaves", "loops", "operators", "patterns", "quadratic")

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self.loops: list[int] = []  # indexes of comprehensions used as values
        self.operators = 0  # engine operators that walk their operands
        self.helpers = 0  # Python helper calls, which convert their arguments
        self.patterns = 0  # estimated RE2 program size of every matches() call (per call)
        self.quadratic: list[tuple[_Span, _Span]] = []


class _Span:
    __slots__ = (
        "leaves",
        "loops",
        "plus",
    )

    def __init__(self, leaves: tuple[Leaf, ...], loops: tuple[int, ...], plus: int) -> None:
        self.leaves = leaves
        self.loops = loops
        self.plus = plus


class _Loop:
    __slots__ = (
        "body",
        "macro",
        "receiver",
        "receiver_path",
        "variables",
    )

    def __init__(
        self,
        macro: str,
        variables: frozenset[str],
        receiver: _Span,
        receiver_path: tuple[str, ...] | None,
        body: Context,
    ) -> None:
        self.macro = macro
        self.variables = variables
        self.receiver = receiver
        self.receiver_path = receiver_path
        self.body = body


class Shape:
    """What a formula's text says about its work, computed once per source."""

    __slots__ = (
        "loops",
        "names",
        "outside",
    )

    def __init__(self, outside: Context, loops: tuple[_Loop, ...], names: frozenset[str]) -> None:
        self.outside = outside
        self.loops = loops
        self.names = names


@functools.lru_cache(maxsize=4096)
def shape_of(source: str) -> Shape:
    """The formula's leaves, operators and comprehensions. Runs after the guard has accepted the
    source, so comprehensions are not nested and brackets are at most 32 deep."""
    tokens = list(scan(source))
    partner = matching_brackets(tokens)
    loops: list[_Loop] = []
    # Which comprehension body, if any, each token belongs to; macro name and parens belong to
    # none (they are the comprehension itself).
    owner: list[int | None] = [None] * len(tokens)
    structural: set[int] = set()
    spans: list[tuple[int, int, int, int]] = []  # (receiver_start, dot, open, close)
    for index, token in enumerate(tokens):
        if (
            token.kind == "ident"
            and token.text in COMPREHENSION_MACROS
            and index > 0
            and tokens[index - 1].kind == "dot"
            and index + 1 < len(tokens)
            and tokens[index + 1].text == "("
            and (index + 1) in partner
        ):
            close = partner[index + 1]
            spans.append((_receiver_start(tokens, partner, index - 1), index - 1, index + 1, close))
    for number, (_start, dot, open_, close) in enumerate(spans):
        for position in range(open_ + 1, close):
            owner[position] = number
        structural.update((dot, dot + 1, open_, close))
        # The iteration variable's declaration is not a use of it.
        position = open_ + 1
        while position < close and tokens[position].text != ",":
            structural.add(position)
            position += 1
        structural.add(position)
    # A receiver is evaluated once and then iterated: its cost is the comprehension's, not the
    # enclosing expression's.
    for start, dot, _open, _close in spans:
        structural.update(p for p in range(start, dot) if owner[p] is None)
    contexts = [Context() for _ in spans]
    outside = Context()
    for number, (start, dot, open_, close) in enumerate(spans):
        body = contexts[number]
        variables = _iteration_variables(tokens, open_, close)
        receiver = _span(tokens, start, dot, partner, spans=spans, number=number)
        path = _plain_path(tokens, start, dot)
        loops.append(_Loop(tokens[dot + 1].text, variables, receiver, path, body))
    for index in range(len(tokens)):
        if index in structural:
            continue
        holder = owner[index]
        context = outside if holder is None else contexts[holder]
        _collect(tokens, index, context, partner)
    # A comprehension is a value in the context that holds it, unless it is the receiver of a
    # later one in a chain (`outputs.map(...).filter(...)`).
    for number, (start, _dot, _open, close) in enumerate(spans):
        chained = any(s <= start and close < d for s, d, _o, _c in spans[number + 1 :])
        if not chained:
            holder = owner[start]
            (outside if holder is None else contexts[holder]).loops.append(number)
    # The variables the engine converts: top-level names that are not calls, literals or
    # comprehension variables.
    bound = {name for loop in loops for name in loop.variables}
    names = frozenset(
        token.text
        for index, token in enumerate(tokens)
        if token.kind == "ident"
        and (index == 0 or tokens[index - 1].kind != "dot")
        and not (index + 1 < len(tokens) and tokens[index + 1].text == "(")
        and token.text not in ("true", "false", "null")
        and token.text not in bound
    )
    return Shape(outside, tuple(loops), names)


def _collect(
    tokens: list[Token],
    index: int,
    context: Context,
    partner: dict[int, int],
    *,
    leaves_only: bool = False,
) -> None:
    """What token `index` adds to its context: a leaf (a literal, or the name path that starts
    here), a walking operator or helper call, a regex, or a quadratic call with its operands.
    `leaves_only`: for the operands of a quadratic call or a receiver (_flat_span), which only
    need their leaves (and must not re-collect the calls nested inside them)."""
    token = tokens[index]
    previous = tokens[index - 1] if index else None
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if token.kind == "binary":
        if token.text in _WALKING_OPERATORS:
            context.operators += 1
    elif token.kind == "number":
        context.leaves.append(Leaf(units=1))
    elif token.kind == "string":
        context.leaves.append(Leaf(units=len(token.text)))
    elif token.kind == "ident":
        calls = following is not None and following.text == "("
        if previous is not None and previous.kind == "dot":
            if calls and not leaves_only:
                if token.text in _WALKING_METHODS:
                    context.operators += 1
                if token.text == "matches":
                    context.patterns += _pattern_cost(tokens, index + 1, partner)
                if token.text in _QUADRATIC_METHODS and (index + 1) in partner:
                    receiver = _receiver_start(tokens, partner, index - 1)
                    context.quadratic.append(
                        (
                            _flat_span(tokens, receiver, index - 1, partner),
                            _flat_span(tokens, index + 2, partner[index + 1], partner),
                        )
                    )
            return  # a field name: part of the path that starts at its first identifier
        if calls:
            if leaves_only:
                return
            if token.text in _WALKING_HELPERS:
                context.helpers += 1
            elif token.text in _WALKING_FUNCTIONS:
                context.operators += 1
            if token.text == "matches":
                context.patterns += _pattern_cost(tokens, index + 1, partner)
        elif token.text not in ("true", "false", "null"):
            context.leaves.append(Leaf(path=_path_from(tokens, index)))
        else:
            context.leaves.append(Leaf(units=1))


def _pattern_cost(tokens: list[Token], open_index: int, partner: dict[int, int]) -> int:
    """The RE2 program size of a matches() call's literal pattern (the guard refuses others)."""
    argument = last_argument(tokens, open_index, partner)
    if len(argument) == 1 and argument[0].kind == "string":
        return regex_cost(literal_text(argument[0].text))
    return MAX_REGEX_COST


def _path_from(tokens: list[Token], index: int, end: int | None = None) -> tuple[str, ...]:
    """The name path starting at `index`, up to a method call, an index or `end`."""
    end = len(tokens) if end is None else end
    path = [tokens[index].text]
    position = index + 1
    while (
        position + 1 < end
        and tokens[position].kind == "dot"
        and tokens[position + 1].kind == "ident"
        and not (position + 2 < end and tokens[position + 2].text == "(")
    ):
        path.append(tokens[position + 1].text)
        position += 2
    return tuple(path)


def _receiver_start(tokens: list[Token], partner: dict[int, int], dot: int) -> int:
    """The first token of the operand a method is called on (`x.y[0].f(...)` for `.map`)."""
    position = dot - 1
    while position >= 0:
        token = tokens[position]
        if token.kind == "close" and position in partner:
            position = partner[position]
            if position > 0 and tokens[position - 1].kind in ("ident", "close"):
                position -= 1
                continue
            if position > 0 and tokens[position - 1].kind == "dot":
                position -= 2
                continue
            return position
        if token.kind == "ident":
            if position > 0 and tokens[position - 1].kind == "dot":
                position -= 2
                continue
            return position
        return position
    return 0


def _iteration_variables(tokens: list[Token], open_: int, close: int) -> frozenset[str]:
    names = set()
    for token in tokens[open_ + 1 : close]:
        if token.text == ",":
            break
        if token.kind == "ident":
            names.add(token.text)
    return frozenset(names)


def _plain_path(tokens: list[Token], start: int, end: int) -> tuple[str, ...] | None:
    part = tokens[start:end]
    if not part or part[0].kind != "ident" or len(part) % 2 == 0:
        return None
    for offset, token in enumerate(part):
        if token.kind != ("ident" if offset % 2 == 0 else "dot"):
            return None
    return tuple(token.text for token in part[::2])


def _span(
    tokens: list[Token],
    start: int,
    end: int,
    partner: dict[int, int],
    *,
    spans: list[tuple[int, int, int, int]],
    number: int,
) -> _Span:
    """Leaves of a receiver, with the comprehensions chained inside it as values."""
    flat = _flat_span(tokens, start, end, partner, skip=spans[:number])
    inner = tuple(n for n, (s, _d, _o, c) in enumerate(spans[:number]) if start <= s and c < end)
    return _Span(flat.leaves, inner, flat.plus)


def _flat_span(
    tokens: list[Token],
    start: int,
    end: int,
    partner: dict[int, int],
    skip: list[tuple[int, int, int, int]] | None = None,
) -> _Span:
    """The leaves of tokens[start:end] (a receiver, or an operand of a quadratic call), leaving
    out the comprehensions in `skip`, and how many `+` join them."""
    scratch = Context()
    plus = 0
    inside = {p for _s, d, _o, c in skip or () for p in range(d, c + 1)}
    for index in range(start, end):
        if index not in inside:
            plus += tokens[index].text == "+"
            _collect(tokens, index, scratch, partner, leaves_only=True)
    return _Span(tuple(scratch.leaves), (), plus)
