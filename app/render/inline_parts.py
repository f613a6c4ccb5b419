"""Where a paragraph's inline Markdown may be cut, so that each part parsed alone gives the
tokens it gives inside the whole text, whatever is appended to the text later.

markdown-it parses inline text left to right. A token is decided by the characters up to
its end and the one after it, except for what a later character can still complete:

- an emphasis or strikethrough opener with no closer: only a later closer of its marker can
  match it (`balance_pairs` pairs each closer with an opener before it; a closer already
  there has made its choice);
- a backtick run with no closing run: only a later run of the same length closes it;
- a `[` (or `![`) with no closing `]`: only a later `]` can close its label;
- a `[` whose label is followed by a `(` and an unfinished destination, and an `<` that a
  `>` could still close into an autolink (it holds no white space): nothing after these is
  cut until they are decided.

Raw HTML, linkify and typographic replacements would reach further; they must be off.

A copy of the parser with each inline rule wrapped (`probe_parser`) notes those places as it
parses. A cut goes where a top-level token ends, inside no matched pair and before any `[`,
`<` or `(` still undecided: after a space or a line break followed by something else, after a
code span, link, image, autolink, entity or escape followed by neither white space nor a
delimiter, or between two non-ASCII characters (scripts written without spaces). The part
after the cut starts at a non-space, so the line-break rule's skipping of leading spaces and
its look at trailing ones give the same tokens, and a delimiter run on either side sees the
same neighbours (markdown-it treats the start of the text as a space). The first three kinds
above are not in the way of a cut: each becomes a `Watch`, and the caller parses again from
its start only if its key comes later.
"""

from __future__ import annotations

import re
from copy import copy, deepcopy
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from markdown_it.helpers import parseLinkDestination, parseLinkLabel

if TYPE_CHECKING:
    from collections.abc import Callable

    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.rules_inline.state_inline import Delimiter
    from markdown_it.token import Token

_PROBE = "paragraph.probe"  # the env key under which the probe parser finds its notes
# The rules the reasoning above covers; a parser with others cannot be cut safely.
_INLINE_RULES = frozenset(
    {"text", "linkify", "newline", "escape", "backticks", "strikethrough", "emphasis"}
    | {"link", "image", "autolink", "html_inline", "entity"}
)
_PAIR_RULES = frozenset({"balance_pairs", "strikethrough", "emphasis", "fragments_join"})
_CORE_RULES = frozenset({"normalize", "block", "inline", "linkify", "replacements", "smartquotes", "text_join"})
# A cut after a space or line break followed by a non-space, or between two non-ASCII
# characters that are not white space, a zero-width joiner or variation selector 16 (both
# change the cell width of what comes before them).
_CANDIDATE = re.compile(r"(?<=[ \n])[^ \t\n]|(?<=[^\x00-\x7f\s\u200d])[^\x00-\x7f\s\u200d\ufe0f]")
_AUTOLINK_STOP = re.compile(r"[\x00-\x20<>]")  # an autolink holds none of these
# Tokens that end where their rule stopped reading: a cut right after one is safe unless a
# delimiter run starts there (it looks at the character before it), white space does, or a
# backtick does (an escaped backtick before it would make a run with it when backtick runs
# are looked for in the raw text).
_CUT_AFTER = frozenset({"backticks", "link", "image", "autolink", "entity", "escape"})
_NOT_AFTER_TOKEN = frozenset(" \t\n*_~`\u200d\ufe0f")
_BACKTICKS = re.compile(r"`+")


def check_parser(parser: MarkdownIt) -> None:
    """Raise ValueError if the parser has rules or options the cutting does not cover."""
    options = parser.options
    unknown = (
        set(parser.inline.ruler.get_active_rules()) - _INLINE_RULES
        | set(parser.inline.ruler2.get_active_rules()) - _PAIR_RULES
        | set(parser.core.ruler.get_active_rules()) - _CORE_RULES
    )
    if options.get("html") or options.get("linkify") or options.get("typographer") or unknown:
        raise ValueError(
            "a paragraph can only be cut with html, linkify and typographer off and "
            f"markdown-it's own inline rules (unknown rules: {sorted(unknown)})"
        )


@dataclass(frozen=True, slots=True)
class Watch:
    """Something a later `key` could still complete: an emphasis opener (`kind` "closer",
    key its marker), a backtick run ("backticks", the run) or a `[` ("bracket", "]")."""

    kind: str
    key: str
    start: int  # where to parse again from if it comes


@dataclass(slots=True)
class Probe:
    """What one parse of a text saw that limits where it may be cut."""

    cap: int  # no cut after this offset: something before it is undecided
    forbidden: list[tuple[int, int]] = field(default_factory=list)  # no cut strictly inside
    ends: list[int] = field(default_factory=list)  # where top-level tokens a cut may follow end
    watches: list[Watch] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)  # where each top-level delimiter's run starts
    closing: list[bool] = field(default_factory=list)  # whether each can close
    closers: dict[str, int] = field(default_factory=dict)  # marker: the last that found no opener
    state: StateInline | None = None  # the parse of the text itself (an image's alt has its own)
    paired: bool = False  # whether `balance_pairs` matched the delimiters noted: openers are known
    links: list[int] = field(default_factory=list)  # top-level `[` or `![` being tried

    def block(self, position: int) -> None:
        self.cap = min(self.cap, self._owner(position))

    def forbid(self, start: int, end: int) -> None:
        start = self._owner(start)
        if end - start > 1:
            self.forbidden.append((start, end))

    def _owner(self, position: int) -> int:
        """A `[` being tried at the top level scans its label with the rules: whatever
        they note there decides that `[` too."""
        return self.links[0] if self.links else position

    def saw(self, name: str, state: StateInline, start: int, matched: bool, top: bool, runs: int) -> None:
        """A rule ran at `start`; `top`: for tokens of the text itself; `runs`: top-level
        delimiters before it ran."""
        src = state.src
        if matched:
            if top and name != "text":
                self.forbid(start, state.pos)
                if name in _CUT_AFTER:
                    self.ends.append(state.pos)
                for delimiter in state.delimiters[runs:]:
                    self.runs.append(start)
                    self.closing.append(delimiter.close)
            literal = src.count("`", start, state.pos) == state.pos - start
            # In a link's own text the parse ends at the label's end, decided already.
            if name == "backticks" and literal and state.posMax == len(src):
                self.watches.append(Watch("backticks", src[start : state.pos], self._owner(start)))
        elif name == "link" and src[start] == "[":
            self._label(state, start, start, disable_nested=True)
        elif name == "image" and src.startswith("![", start):
            self._label(state, start, start + 1, disable_nested=False)
        elif name == "autolink" and src[start] == "<":
            stop = _AUTOLINK_STOP.search(src, start + 1)
            self.forbid(start, stop.start() + 1 if stop else len(src) + 1)

    def _label(self, state: StateInline, start: int, bracket: int, *, disable_nested: bool) -> None:
        """A `[` that made no link (or image): it never will if its label is closed and not
        followed by `(` (reference links are off) or by a `(` that can open no destination,
        or if its label holds a link; it may while no `]` closes its label."""
        if state.posMax < len(state.src):
            return  # in a link's own text: decided with the link
        end = parseLinkLabel(state, bracket, disable_nested)
        if end >= 0:
            after = end + 1
            if after >= state.posMax or (state.src[after] == "(" and not _no_destination(state, after)):
                self.block(start)  # a destination may still come, or be finished
        elif not (disable_nested and parseLinkLabel(state, bracket, False) >= 0):
            self.watches.append(Watch("bracket", "]", self._owner(start)))

    def pairs(self, delimiters: list[Delimiter]) -> None:
        """The top-level delimiters once `balance_pairs` has matched them."""
        if len(delimiters) != len(self.runs):
            return  # delimiters from a rule this does not know: nothing is known of them
        self.paired = True
        matched = {delimiter.end for delimiter in delimiters if delimiter.end >= 0}
        for index, (delimiter, start) in enumerate(zip(delimiters, self.runs, strict=True)):
            if delimiter.end >= 0:
                self.forbid(start, self.runs[delimiter.end] + 1)
            elif delimiter.open:
                self.watches.append(Watch("closer", chr(delimiter.marker), start))
            # A closer that found its opener here finds it in any longer text too: only one
            # that found none may reach an opener before the text.
            if self.closing[index] and index not in matched:
                self.closers[chr(delimiter.marker)] = start

    def cuts(self, text: str, piece: int) -> list[int]:
        """Offsets to cut `text` at, ascending: about every `piece` characters, and the last
        place it may be cut (none if it may not be cut at all)."""
        if self.runs and not self.paired:
            return []
        spans = _merged(self.forbidden)
        found: list[int] = []
        last = best = index = 0
        limit = min(self.cap, len(text) - 1)
        candidates = {match.start() for match in _CANDIDATE.finditer(text, 1, limit + 1)}
        candidates.update(end for end in self.ends if end <= limit and text[end] not in _NOT_AFTER_TOKEN)
        for position in sorted(candidates):
            while index < len(spans) and spans[index][1] <= position:
                index += 1
            if index < len(spans) and spans[index][0] < position:
                continue
            best = position
            if position - last >= piece:
                found.append(position)
                last = position
        if best > last:
            found.append(best)
        return found

    def keys(self, text: str) -> dict[tuple[str, str], int]:
        """Where each watch key last occurs in `text`, which this probe parsed."""
        # Unpaired delimiters: any closer may reach back.
        closers = self.closers if self.paired or not self.runs else dict.fromkeys("*_~", len(text))
        found = {("closer", marker): start for marker, start in closers.items()}
        for run in _BACKTICKS.finditer(text):
            found["backticks", run.group()] = run.start()
        bracket = text.rfind("]")
        if bracket >= 0:
            found["bracket", "]"] = bracket
        return found


def _no_destination(state: StateInline, paren: int) -> bool:
    """Whether what follows a label's `(` can never be a destination and title closed by
    `)`, whatever comes later: a plain destination, white space, then something that starts
    neither a title nor `)` ("[a](b c)"). Other failures may still be finished."""
    src, end = state.src, state.posMax
    position = _after_space(src, paren + 1, end)
    if position >= end or src[position] == "<":
        return False
    destination = parseLinkDestination(src, position, end)
    if not destination.ok or destination.pos >= end:
        return False
    if not state.md.validateLink(state.md.normalizeLink(destination.str)):
        return False  # the rule then looks for a title where the destination starts
    position = _after_space(src, destination.pos, end)
    return position < end and src[position] not in "\"'()"


def _after_space(src: str, position: int, end: int) -> int:
    while position < end and src[position] in " \t\n":
        position += 1
    return position


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _observed(name: str, rule: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    def observed(state: StateInline, silent: bool) -> bool:
        probe = state.env.get(_PROBE)
        if not isinstance(probe, Probe):
            return rule(state, silent)
        if probe.state is None:
            probe.state = state  # the first rule runs on the text itself
        start, level, runs = state.pos, state.level, len(state.delimiters)
        mine = state is probe.state
        trying = mine and name in ("link", "image") and level == 0 and not silent
        if trying:
            probe.links.append(start)
        try:
            matched = rule(state, silent)
        finally:
            if trying:
                probe.links.pop()
        if mine:
            probe.saw(name, state, start, matched, not silent and level == 0, runs)
        return matched

    return observed


def _observed_pairs(rule: Callable[[StateInline], None]) -> Callable[[StateInline], None]:
    def observed(state: StateInline) -> None:
        rule(state)
        probe = state.env.get(_PROBE)
        if isinstance(probe, Probe) and state is probe.state:
            probe.pairs(state.delimiters)

    return observed


@cache
def probe_parser(parser: MarkdownIt) -> MarkdownIt:
    """A copy of `parser` whose inline rules report to the `Probe` in the env; it parses
    the same (the rules only watch), and `parser` itself is left as it was."""
    check_parser(parser)
    probe = copy(parser)
    probe.inline = copy(parser.inline)
    probe.inline.ruler = ruler = deepcopy(parser.inline.ruler)
    probe.inline.ruler2 = pairs = deepcopy(parser.inline.ruler2)
    for rule in list(ruler.__rules__):
        ruler.at(rule.name, _observed(rule.name, rule.fn))
    for pair_rule in list(pairs.__rules__):
        if pair_rule.name == "balance_pairs":
            pairs.at(pair_rule.name, _observed_pairs(pair_rule.fn))
    return probe


def parse_with_probe(parser: MarkdownIt, text: str) -> tuple[list[Token], Probe]:
    """Inline-parse `text` with the probe copy of `parser`: its tokens, and the notes."""
    probe = Probe(len(text))
    tokens = probe_parser(parser).parseInline(text, {_PROBE: probe})
    return tokens, probe
