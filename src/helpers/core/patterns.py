"""Regular expressions over untrusted document text, in time linear in the text.

Python's ``re`` backtracks: a pattern with nested or adjacent quantifiers over the same
characters (``[\\w-]+(?:[ -][A-Z][\\w-]*)+``, ``(.+?)\\s*$``) can take quadratic or exponential
time on a long line, and ``search`` restarts every failed attempt one character further on
(``[\\w.+-]+@`` reads a run of letters again from each of its letters). Every pattern applied
to document text (and to registry exports and table cells) uses one of two engines:

``linear(pattern, flags)``: RE2 (``google-re2``)
    For every pattern with unbounded repetition that RE2 can express: no lookaround, no
    ``\\b``, no backreference, no possessive or atomic group, and no empty match. RE2 runs an
    automaton: linear time whatever the text. The pattern is written in Python syntax and
    keeps Python's meaning exactly. It is parsed with Python's own parser, and every
    character set (``\\w``, ``\\s``, ``\\d`` are Unicode in Python, ASCII in RE2) and every
    case-insensitive letter (Python's ``i`` also matches ``İ`` and ``ı``, ``k`` the Kelvin
    sign, ``s`` the long s; RE2's ``(?i)`` does not) becomes the explicit set of code points
    that ``re`` matches for it, found by asking ``re`` (about 0.2 s, once per process, on
    first use). A non-multiline ``$`` becomes ``\\z``; Python's ``$`` also matches before a
    final newline, which is kept for a text with one trailing newline and refused
    (ValueError) for a text with other newlines too: such patterns are applied to single
    lines. Captures are ``re``'s (RE2 keeps leftmost-first, Perl-style submatches);
    :class:`Match` offers ``group``, ``groups``, ``groupdict``, ``start``/``end``/``span``,
    ``m[g]`` and ``expand``; ``sub`` takes ``re``'s templates.

``re``, kept where RE2 cannot serve, each with a comment at its definition:
    * patterns without unbounded repetition (``\\bNCT\\d{8}\\b``, ``[;,]``, ``\\d{6,9}``,
      ``AFFIL_MARK_RE``) or a single repeated class with nothing after it (``[^a-z0-9]+``,
      ``\\d+``): every match attempt reads a bounded stretch, or consumes what it reads;
    * patterns that need ``\\b`` or lookaround and are linear as written: ``DOI_RE``,
      ``PMID_RE`` and ``parse_date`` (:mod:`helpers.sources.common`), the author separator
      of :mod:`helpers.sources.ncbi_page`, ``_AGE_LEAD_RE`` of
      :mod:`helpers.sources.registry` (given a ``(?<!\\d)`` so that a search starts only
      where a run of digits starts), the sentence-end patterns of
      :mod:`helpers.text.concepts.sentences`: an attempt reads a run that no other attempt
      reads again;
    * ``helpers.text.concepts.ambiguity._ELLIPSIS_WORD``, searched with pos/endpos in at most
      40 characters of the batch string (RE2 would be handed the whole batch on each call).

``tests/test_linear_time.py`` times every compiled pattern of these modules, every literal
pattern written inline in them and the few built at run time, on adversarial inputs of two
sizes; and checks every character set given to RE2 against ``re`` over all code points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, partial
from re import _compiler, _parser  # Python's own parser: the translation keeps re's meaning
from re import _constants as sre
from typing import Any

import re2
from re2 import _re2  # the C++ binding: re2's Python layer costs ~7 µs per match

__all__ = ["Linear", "Match", "linear"]

Ranges = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive code point ranges
_MAX = 0x10FFFF
_SURROGATES = ((0xD800, 0xDFFF),)  # never in text read from a file (strict decoding)
_FLAGS = re.IGNORECASE | re.MULTILINE | re.DOTALL | re.VERBOSE | re.ASCII | re.UNICODE
_CHARS = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ANCHORS = (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING, sre.AT_END, sre.AT_END_STRING)
_CATEGORIES = {
    sre.CATEGORY_DIGIT: (r"\d", False),
    sre.CATEGORY_NOT_DIGIT: (r"\d", True),
    sre.CATEGORY_SPACE: (r"\s", False),
    sre.CATEGORY_NOT_SPACE: (r"\s", True),
    sre.CATEGORY_WORD: (r"\w", False),
    sre.CATEGORY_NOT_WORD: (r"\w", True),
}
_RE2_MAX_REPEAT = 1000
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
_ANCHOR_START = _re2.RE2.Anchor.ANCHOR_START
_ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH


def linear(pattern: str, flags: int = 0) -> Linear:
    """``pattern`` (Python syntax and meaning) compiled for RE2: linear time on any text.

    Raises ValueError when RE2 cannot express it (lookaround, ``\\b``, backreferences,
    possessive/atomic groups) or it can match the empty string: keep such a pattern on
    ``re`` and say at its definition why it is linear there.
    """
    return Linear(pattern, flags)


class Linear:
    """A pattern compiled for RE2 with Python ``re`` semantics (see the module docstring).

    Offers ``search``, ``match``, ``fullmatch``, ``finditer``, ``findall``, ``split``,
    ``sub`` and ``subn`` on a whole string (no pos/endpos), returning :class:`Match`
    objects. The RE2 program is built on first use.
    """

    __slots__ = ("pattern", "flags", "groupindex", "_tree", "_dollar", "_programs")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        if not isinstance(pattern, str):
            raise TypeError("linear() takes a str pattern")
        if flags & ~_FLAGS:
            raise ValueError(f"{pattern!r}: only the flags I, M, S, X, A and U are supported")
        tree = _parser.parse(pattern, flags)
        if tree.getwidth()[0] == 0:
            raise ValueError(f"{pattern!r} can match the empty string: keep it on re")
        self.pattern = pattern
        self.flags = tree.state.flags
        self.groupindex = dict(tree.state.groupdict)
        self._tree = tree
        self._dollar = _check(pattern, tree, tree.state.flags)
        self._programs: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"linear({self.pattern!r}, {self.flags & ~re.UNICODE})"

    def __reduce__(self) -> tuple[Callable[..., Linear], tuple[str, int]]:
        return linear, (self.pattern, self.flags & ~re.UNICODE)

    @property
    def single_line(self) -> bool:
        """Whether the pattern has a non-multiline ``$`` and so is applied to single lines."""
        return self._dollar

    @property
    def groups(self) -> int:
        """Number of capturing groups."""
        return self._tree.state.groups - 1

    def search(self, text: str) -> Match | None:
        """First match anywhere in ``text``, or None."""
        return next(self._matches(text, _UNANCHORED), None)

    def match(self, text: str) -> Match | None:
        """Match at the start of ``text``, or None."""
        return next(self._matches(text, _ANCHOR_START), None)

    def fullmatch(self, text: str) -> Match | None:
        """Match of the whole ``text``, or None."""
        return next(self._matches(text, _ANCHOR_BOTH), None)

    def finditer(self, text: str) -> Iterator[Match]:
        """Non-overlapping matches, left to right (a match is never empty)."""
        return self._matches(text, _UNANCHORED)

    def findall(self, text: str) -> list[Any]:
        """As ``re.findall``: whole matches, the one group, or tuples of groups ("" when unmatched)."""
        if self.groups == 0:
            return [m.group() for m in self.finditer(text)]
        if self.groups == 1:
            return [m.group(1) or "" for m in self.finditer(text)]
        return [m.groups("") for m in self.finditer(text)]

    def split(self, text: str, maxsplit: int = 0) -> list[str | None]:
        """As ``re.split``: the pieces between matches, with the separator's groups."""
        pieces: list[str | None] = []
        end = 0
        for done, m in enumerate(self.finditer(text)):
            if maxsplit and done >= maxsplit:
                break
            pieces.append(text[end : m.start()])
            pieces.extend(m.groups())
            end = m.end()
        pieces.append(text[end:])
        return pieces

    def subn(self, repl: str | Callable[[Match], str], text: str, count: int = 0) -> tuple[str, int]:
        """As ``re.subn``; a string ``repl`` may refer to groups (``\\1``, ``\\g<name>``)."""
        if isinstance(repl, str):
            repl = partial(_parser.expand_template, _parser.parse_template(repl, self))
        pieces, end, done = [], 0, 0
        for m in self.finditer(text):
            if count and done >= count:
                break
            pieces += [text[end : m.start()], repl(m)]
            end = m.end()
            done += 1
        pieces.append(text[end:])
        return "".join(pieces), done

    def sub(self, repl: str | Callable[[Match], str], text: str, count: int = 0) -> str:
        """As ``re.sub``."""
        return self.subn(repl, text, count)[0]

    def _program(self, text: str) -> Any:
        variant = "end"
        if self._dollar and text.endswith("\n"):
            if text.find("\n", 0, len(text) - 1) >= 0:
                raise ValueError(
                    f"{self.pattern!r}: '$' is applied to single lines, got a text with several line breaks"
                )
            variant = "line"  # Python's '$' also matches before the one trailing newline
        program = self._programs.get(variant)
        if program is None:
            source = _Translator(self._tree.state.groupdict, variant).emit(self._tree, self.flags)
            program = _re2.RE2(source.encode("utf-8"), re2.Options())
            if not program.ok():
                raise ValueError(f"{self.pattern!r}: RE2 refused the translation ({program.error()})")
            self._programs[variant] = program
        return program

    def _matches(self, text: str, anchor: Any) -> Iterator[Match]:
        """Matches from RE2, byte offsets turned into character offsets."""
        program = self._program(text)
        data = text.encode("utf-8")
        size = len(data)
        ascii_only = size == len(text)
        pos = 0
        mark = (0, 0)  # (byte, character) offsets of the end of the last match
        while True:
            spans = program.Match(anchor, data, pos, size)
            if spans[0][0] < 0:
                return
            pos = spans[0][1]
            if not ascii_only:
                spans, mark = _characters(data, spans, mark)
            yield Match(self, text, spans)
            if anchor != _UNANCHORED or pos >= size:
                return


def _characters(
    data: bytes, spans: list[tuple[int, int]], mark: tuple[int, int]
) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Byte spans of one match -> character spans, counted on from ``mark`` (the spans lie after it)."""
    chars = {-1: -1}
    byte, char = mark
    for offset in sorted({o for span in spans for o in span if o >= 0}):
        char += _re2.BytesToCharLen(data, byte, offset)
        byte = offset
        chars[offset] = char
    whole = spans[0][1]
    return [(chars[a], chars[b]) for a, b in spans], (whole, chars[whole])


class Match:
    """One match: ``group``, ``groups``, ``groupdict``, ``start``/``end``/``span``, ``m[g]``, ``expand``."""

    __slots__ = ("re", "string", "_spans")

    def __init__(self, pattern: Linear, string: str, spans: list[tuple[int, int]]) -> None:
        self.re = pattern
        self.string = string
        self._spans = spans

    def __repr__(self) -> str:
        return f"<Match span={self.span()} match={self.group()!r}>"

    def _index(self, group: int | str) -> int:
        number = self.re.groupindex.get(group, -1) if isinstance(group, str) else group
        if not 0 <= number < len(self._spans):
            raise IndexError(f"no such group: {group!r}")
        return number

    def span(self, group: int | str = 0) -> tuple[int, int]:
        """(start, end) of a group; (-1, -1) when it took no part in the match."""
        return self._spans[self._index(group)]

    def start(self, group: int | str = 0) -> int:
        """Start of a group (-1 when unmatched)."""
        return self.span(group)[0]

    def end(self, group: int | str = 0) -> int:
        """End of a group (-1 when unmatched)."""
        return self.span(group)[1]

    def __getitem__(self, group: int | str) -> str | None:
        start, end = self.span(group)
        return None if start < 0 else self.string[start:end]

    def group(self, *groups: int | str) -> Any:
        """The text of one group (default: the whole match), or a tuple for several."""
        if len(groups) <= 1:
            return self[groups[0] if groups else 0]
        return tuple(self[g] for g in groups)

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        """The texts of all groups (``default`` for unmatched ones)."""
        return tuple(default if (text := self[i]) is None else text for i in range(1, len(self._spans)))

    def groupdict(self, default: Any = None) -> dict[str, Any]:
        """Named groups -> their texts."""
        return {name: default if (text := self[i]) is None else text for name, i in self.re.groupindex.items()}

    def expand(self, template: str) -> str:
        """``template`` with its group references (``\\1``, ``\\g<name>``) filled in, as ``re`` does."""
        return _parser.expand_template(_parser.parse_template(template, self.re), self)


# ---------------------------------------------------------------- what RE2 can express


def _check(pattern: str, items: Any, flags: int) -> bool:
    """Raise ValueError for what RE2 lacks; True when a non-multiline '$' occurs."""
    dollar = False
    for op, av in items:
        if op in _CHARS:
            continue
        if op is sre.BRANCH:
            dollar |= any([_check(pattern, alt, flags) for alt in av[1]])
        elif op is sre.SUBPATTERN:
            dollar |= _check(pattern, av[3], _compiler._combine_flags(flags, av[1], av[2]))
        elif op in _REPEATS:
            if max(av[0], 0 if av[1] is sre.MAXREPEAT else av[1]) > _RE2_MAX_REPEAT:
                raise ValueError(f"{pattern!r}: RE2 repeats at most {_RE2_MAX_REPEAT} times")
            dollar |= _check(pattern, av[2], flags)
        elif op is sre.AT and av in _ANCHORS:
            dollar |= av is sre.AT_END and not flags & re.MULTILINE
        else:
            what = str(av).lower() if op is sre.AT else str(op).lower()
            raise ValueError(f"{pattern!r}: RE2 has no {what} (lookaround, \\b, backreference...): keep it on re")
    return dollar


class _Translator:
    """Python pattern tree -> RE2 source with the same meaning."""

    def __init__(self, groupdict: dict[str, int], variant: str) -> None:
        self.names = {number: name for name, number in groupdict.items()}
        self.dollar = r"(?m:$)" if variant == "line" else r"\z"

    def emit(self, items: Any, flags: int) -> str:
        return "".join(self._one(op, av, flags) for op, av in items)

    def _one(self, op: Any, av: Any, flags: int) -> str:
        if op in _CHARS:
            return _class(_charset(op, av, flags))
        if op is sre.BRANCH:
            return "(?:" + "|".join(self.emit(alt, flags) for alt in av[1]) + ")"
        if op is sre.SUBPATTERN:
            group, add, remove, inner = av
            body = self.emit(inner, _compiler._combine_flags(flags, add, remove))
            if group is None:
                return f"(?:{body})"
            return f"(?P<{self.names[group]}>{body})" if group in self.names else f"({body})"
        if op in _REPEATS:
            low, high, inner = av
            lazy = "?" if op is sre.MIN_REPEAT else ""
            return f"(?:{self.emit(inner, flags)}){_quantifier(low, high)}{lazy}"
        return self._anchor(av, flags)

    def _anchor(self, at: Any, flags: int) -> str:
        if at is sre.AT_BEGINNING:
            return r"(?m:^)" if flags & re.MULTILINE else r"\A"
        if at is sre.AT_BEGINNING_STRING:
            return r"\A"
        if at is sre.AT_END:
            return r"(?m:$)" if flags & re.MULTILINE else self.dollar
        return r"\z"  # AT_END_STRING (Python's \Z)


def _quantifier(low: int, high: Any) -> str:
    if high is sre.MAXREPEAT:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if (low, high) == (0, 1):
        return "?"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


# ---------------------------------------------------------------- character sets


def _charset(op: Any, av: Any, flags: int) -> Ranges:
    """The code points one character atom matches, exactly as ``re`` decides it."""
    if not flags & re.IGNORECASE or op is sre.ANY:
        return _plain_set(op, av, flags)
    # ignoring case, re lower-cases the character and then applies the test, so a
    # negation is the complement of the positive test
    if op is sre.NOT_LITERAL:
        return _complement(_charset(sre.LITERAL, av, flags))
    if op is sre.IN and any(item is sre.NEGATE for item, _ in av):
        return _complement(_charset(sre.IN, [(i, v) for i, v in av if i is not sre.NEGATE], flags))
    categories = op is sre.IN and any(item is sre.CATEGORY for item, _ in av)
    if categories and all(item is sre.CATEGORY for item, _ in av):
        return _plain_set(op, av, flags)  # re compiles a class with no letter in it case-sensitively
    if not categories and _plain_set(op, av, flags)[-1][1] < 0x80:
        return _ask_re(op, av, flags, _ascii_fold_universe())
    return _ask_re(op, av, flags, None)


def _plain_set(op: Any, av: Any, flags: int) -> Ranges:
    """The code points of an atom, case-sensitively (letters as written)."""
    if op is sre.LITERAL:
        return ((av, av),)
    if op is sre.NOT_LITERAL:
        return _complement(((av, av),))
    if op is sre.ANY:
        return ((0, _MAX),) if flags & re.DOTALL else _complement(((10, 10),))
    parts: list[tuple[int, int]] = []
    negate = False
    for item, value in av:
        if item is sre.NEGATE:
            negate = True
        elif item is sre.LITERAL:
            parts.append((value, value))
        elif item is sre.RANGE:
            parts.append(value)
        else:  # CATEGORY
            parts.extend(_category(value, bool(flags & re.ASCII)))
    merged = _merge(parts)
    return _complement(merged) if negate else merged


@cache
def _category(category: Any, ascii_only: bool) -> Ranges:
    """``\\d``, ``\\s``, ``\\w`` (and negations) as ``re`` defines them."""
    escape, negated = _CATEGORIES[category]
    regex = re.compile(f"{escape}+", re.ASCII if ascii_only else 0)
    found = tuple((m.start(), m.end() - 1) for m in regex.finditer(_every_char()))
    return _complement(found) if negated else found


def _ask_re(op: Any, av: Any, flags: int, universe: str | None) -> Ranges:
    """Ask ``re`` which characters of ``universe`` (default: all) the atom matches, with its flags."""
    state = _parser.State()
    state.flags = flags
    if universe is not None:
        regex = _compiler.compile(_parser.SubPattern(state, [(op, av)]), flags)
        return _merge([(ord(c), ord(c)) for c in regex.findall(universe)])
    runs = [(sre.MAX_REPEAT, (1, sre.MAXREPEAT, _parser.SubPattern(state, [(op, av)])))]
    regex = _compiler.compile(_parser.SubPattern(state, runs), flags)
    return tuple((m.start(), m.end() - 1) for m in regex.finditer(_every_char()))


@cache
def _every_char() -> str:
    """Every code point, each at its own index (surrogates included)."""
    count = _MAX + 1  # 17 planes of 65536
    utf32 = bytearray(4 * count)  # little-endian: low byte, middle byte, plane, 0
    utf32[0::4] = bytes(range(256)) * (count // 256)
    utf32[1::4] = b"".join(bytes([k]) * 256 for k in range(256)) * (count // 65536)
    utf32[2::4] = b"".join(bytes([k]) * 65536 for k in range(count // 65536))
    return utf32.decode("utf-32-le", "surrogatepass")


@cache
def _ascii_fold_universe() -> str:
    """ASCII and every character ``re`` matches to an ASCII one ignoring case (İ ı ſ K)."""
    return "".join(re.findall(r"[\x00-\x7f]+", _every_char(), re.IGNORECASE))


def _merge(parts: list[tuple[int, int]] | Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    for low, high in sorted(parts):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= _MAX:
        out.append((start, _MAX))
    return tuple(out)


def _minus(ranges: Ranges, removed: Ranges) -> Ranges:
    return _complement(_merge([*_complement(ranges), *removed]))


def _class(ranges: Ranges) -> str:
    """RE2 source for a set of code points (the shorter of the set and its complement)."""
    ranges = _minus(ranges, _SURROGATES)
    inverse = _minus(_complement(ranges), _SURROGATES)
    if not inverse:
        return r"(?s:.)"
    if not ranges:
        return r"[^\x00-\x{10FFFF}]"
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    if len(inverse) < len(ranges):
        return "[^" + _body(inverse) + "]"
    return "[" + _body(ranges) + "]"


def _body(ranges: Ranges) -> str:
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in ranges)


def _char(code: int) -> str:
    ch = chr(code)
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{code:X}}}"
