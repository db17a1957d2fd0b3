"""The group's notes files, both directions: `render(notes) -> str` and `parse(text, filename) -> notes`.

One notes file per meeting, in the structure the group's own repository uses::

    # Rust ML WG Meeting 00015

    ## Meeting Info

    Date: 20201201

    Start time: 1600 ET

    Zoom: https://ucsb.zoom.us/j/6601852842

    ## Agenda
    ## Participants
    ## Minutes
    ## Actions

`render` writes that shape; `parse` reads it back exactly (`parse(render(m)) == m`, see the
preconditions below) and also reads the files people wrote by hand, with their variations (heading
levels, dates written three ways, a "Time:" line instead of Meeting Info, checkbox agendas, owners
written as `chrism: …` or `Chris M to …`, …). Markdown is read with markdown-it-py (CommonMark, with
strikethrough); text is taken from the source lines the tokens point at, so it is kept as written.

Everything here is pure and independent of `bot.model`. How the live model maps onto these values
(for the coordinator; nothing here depends on it):

- `MeetingNotes.number`, `.date` (the meeting's *local* date) and `.start_time` come from the
  schedule's meeting; `start_time` is the group's own spelling (`"1600 ET"`), e.g.
  `f"{local:%H%M} {label}"` with a label the group chooses; `.call_link` from the config.
- `.agenda`: the meeting's `AgendaItem`s in position order (removed ones left out), as
  `AgendaEntry(item.text, left_over=<meeting ended> and not item.discussed)`. Importing, an entry
  becomes an `AgendaItem` with `discussed = not left_over`; `details` (sub-bullets people wrote under
  an item) have no place in `AgendaItem` yet and are kept here only.
- `.participants`: the names (`Person.name`) of everyone present.
- `.minutes`: a `Topic` per agenda item that has minutes (its text as `title`, `None` for minutes
  taken outside the agenda), each `Minute` a note, decision (`agreed`) or link record in the order
  taken. Imported files keep their minutes as written: `minutes` is then the section's Markdown.
- `.actions`: the meeting's `ActionItem`s as `Action(item.text, tuple(p.name for p in item.owners),
  item.due, done=item.closed_at is not None)`. Importing, `owners` are names *as written*
  (`"chrism"`, `"Chris M"`); matching them to people is not done here.

Every text people typed is rendered through `bot.render.user_text`, so every mention in it is
silent (`@**x**` becomes `@_**x**`); multi-line Markdown kept as written is silenced word by word,
keeping its layout.

Round-trip preconditions (what `render` cannot keep): texts are single-spaced lines with their
mentions already silent (render makes them so); owner names contain no `*`; URLs contain no
whitespace, parentheses or angle brackets; a note is not a bare URL (that reads as a link); the
topic titles are agenda texts; an owner-less action does not start with a participant's name (it
would read as theirs); an agenda is not the one item "N/A" (that reads as none); an open action's
text does not end with `:white_check_mark:`; `sections` lists every section that has content, in
the canonical order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from bot.render import user_text

__all__ = [
    "SECTIONS",
    "Action",
    "AgendaEntry",
    "MeetingNotes",
    "Minute",
    "NotesError",
    "Reading",
    "Topic",
    "file_name",
    "name_words",
    "parse",
    "read",
    "render",
    "split_post",
    "summary",
]

SECTIONS = ("Meeting Info", "Agenda", "Participants", "Minutes", "Actions")
_SECTION_NAMES = {name.lower(): name for name in SECTIONS} | {"action items": "Actions"}

MinuteKind = Literal["note", "agreed", "link"]


@dataclass(frozen=True)
class AgendaEntry:
    """One agenda item. `left_over`: the meeting ended without discussing it (it rolls over)."""

    text: str
    left_over: bool = False
    details: str = ""  # Markdown written under the item (sub-bullets), as written, dedented


@dataclass(frozen=True)
class Minute:
    """One line of minutes: a note, a decision (`agreed`) or a link (`url`, `text` optional)."""

    kind: MinuteKind
    text: str
    url: str = ""


@dataclass(frozen=True)
class Topic:
    """The minutes taken under one agenda item (`title` is its text; None: outside the agenda)."""

    title: str | None
    minutes: tuple[Minute, ...] = ()


@dataclass(frozen=True)
class Action:
    """An action item; `owners` are names as written; `details` the lines written under it."""

    text: str
    owners: tuple[str, ...] = ()
    due: date | None = None
    done: bool = False
    details: str = ""


@dataclass(frozen=True)
class MeetingNotes:
    """One meeting's notes file.

    `minutes` is a tree of topics, or, for files written by hand, the section's Markdown as
    written (a str). `sections` names the sections the file has (for parsed files, in file order).
    """

    title: str
    number: int
    date: date | None = None
    start_time: str = ""  # as the group writes it: "1600 ET", "1130ET"
    call_link: str = ""
    cancelled: bool = False
    agenda: tuple[AgendaEntry, ...] = ()
    participants: tuple[str, ...] = ()
    minutes: tuple[Topic, ...] | str = ()
    actions: tuple[Action, ...] = ()
    sections: tuple[str, ...] = SECTIONS


@dataclass(frozen=True)
class Reading:
    """What `read` made of a file: the notes, and remarks on what was read leniently or left out."""

    notes: MeetingNotes
    remarks: tuple[str, ...] = field(default=())


class NotesError(ValueError):
    """A file that can't be read as meeting notes (no meeting number anywhere)."""


def file_name(notes: MeetingNotes) -> str:
    """The file's name in the group's repository: `meeting_00016_20201215.md`."""
    day = f"_{notes.date:%Y%m%d}" if notes.date else ""
    return f"meeting_{notes.number:05d}{day}.md"


# ---------------------------------------------------------------------------------------------
# Shared by both directions: escapes, owners, the minutes lines.

_DONE_MARKS = (":white_check_mark:", ":heavy_check_mark:", ":check_mark:", ":check:", "✅")
_NOT_DISCUSSED = "*(not discussed)*"
_OTHER_BUSINESS = "*(other business)*"
_AGREED = "**Agreed:** "
_INDENT = "    "


_RISKY_START = re.compile(
    r"""\\|\#{1,6}(?:\s|$)|[-+*](?:\s|$)|>|\d+(?:[.)](?:\s|$)|\\)|```|~~~|~~.*~~\s*$"""
    r"""|\[[ xX]\](?:\s|$)|<[A-Za-z!?/]|\*\(|\*\*Agreed:\*\*|\*\*[^*]*\*\*(?::|,| \(due)"""
    r"""|\(due \d{4}-\d{2}-\d{2}\):|(?::white_check_mark:|:heavy_check_mark:|:check_mark:|:check:|✅)"""
)


def _needs_escape(text: str) -> bool:
    """Whether text at the start of a bullet would read as Markdown structure or as our own marks."""
    return _RISKY_START.match(text) is not None


def _escape_lead(text: str) -> str:
    """Text put at the start of a bullet, escaped so it can't read as Markdown or as our markup."""
    if not _needs_escape(text):
        return text
    digits = re.match(r"\d+", text)
    if digits:
        return f"{digits.group()}\\{text[digits.end() :]}"
    return "\\" + text


def _unescape_lead(source: str) -> str:
    """Inverse of `_escape_lead`: drop the backslash it would have added, and no other."""
    if source.startswith("\\") and _needs_escape(source[1:]):
        return source[1:]
    digits = re.match(r"(\d+)\\(.*)", source, re.DOTALL)
    if digits and _needs_escape(digits.group(1) + digits.group(2)):
        return digits.group(1) + digits.group(2)
    return source


def _silence(markdown: str) -> str:
    """Multi-line Markdown as written, every mention silenced, its layout (spaces, lines) kept."""
    return "".join(user_text(part) if part.strip() else part for part in re.split(r"(\s+)", markdown))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _name(name: str) -> str:
    return _one_line(name.replace("*", "")) or "someone"


_WORD = re.compile(r"@?([^\W\d_][\w'-]*)")
_INITIAL = re.compile(r" ([A-Z])\.?(?=$|[\s:;,])")
_SECOND = re.compile(r" ([^\W\d_][\w'-]*)(?=$|[\s:;,])")
_JOIN = re.compile(r"(?: and |, | & )")


def name_words(participants: Iterable[str]) -> frozenset[str]:
    """The words that name people in Participants lines ("Chris (chrism)" -> chris, chrism), lowercased.

    Words of two characters or more; initials and dotted abbreviations are left out.
    """
    words: set[str] = set()
    for entry in participants:
        for raw in re.split(r"[\s()\[\]]+", entry):
            word = raw.lstrip("@").strip(".,;:!?")
            if len(word) >= 2 and re.fullmatch(r"[^\W_][\w'-]*", word):
                words.add(word.lower())
    return frozenset(words)


def _one_name(text: str, pos: int, names: Collection[str]) -> int | None:
    """The end of a person's name starting at pos (a known word, maybe an initial or a second word)."""
    word = _WORD.match(text, pos)
    if not word or word.group(1).lower() not in names:
        return None
    end = word.end()
    second = _INITIAL.match(text, end) or _SECOND.match(text, end)
    if second and (second.re is _INITIAL or second.group(1).lower() in names):
        end = second.end(1) + (1 if text[second.end(1) : second.end(1) + 1] == "." else 0)
    return end


def _lead_owners(text: str, names: Collection[str]) -> tuple[tuple[str, ...], str, int] | None:
    """Owners named at the start of an action: (owners, the text to keep, where the names end).

    Forms: `chrism: talk to …` and `TODO: Chris; look into …` (the prefix is dropped from the
    text); `Chris M to …`, `Ricky and Chris take …`, `lorenz contact …` (the text is kept whole).
    A name is a known word (a participant's), maybe followed by an initial; `names` are lowercased.
    """
    todo = re.match(r"TODO:?\s+", text)
    owners: list[str] = []
    pos = todo.end() if todo else 0
    while True:
        end = _one_name(text, pos, names)
        if end is None:
            break
        owners.append(text[pos:end].lstrip("@"))
        pos = end
        joined = _JOIN.match(text, pos)
        if not joined or _one_name(text, joined.end(), names) is None:
            break
        pos = joined.end()
    if not owners:
        return None
    rest = text[pos:]
    prefix = re.match(r"\s*[:;]\s*", rest)
    if prefix:
        return tuple(owners), rest[prefix.end() :], pos
    if todo or (rest and not rest.startswith(" ")):
        return None
    return tuple(owners), text, pos


def _trailing_owner(text: str, names: Collection[str]) -> tuple[str, ...]:
    """An owner written after an arrow at the end: `… -> chrism`."""
    arrow = re.search(r"(?:->|→)\s*@?([^\W\d_][\w'-]*)\s*$", text)
    if arrow and arrow.group(1).lower() in names:
        return (arrow.group(1),)
    return ()


def _detail_owner(details: str, names: Collection[str]) -> tuple[str, ...]:
    """An owner named on a line right under the action: `- chrism`, `- Tiberio will take a look`."""
    bullets = [re.match(r"( *)[-*+]\s+(.*\S)", line) for line in details.split("\n")]
    top = min((len(b.group(1)) for b in bullets if b), default=0)
    for item in bullets:
        if not item or len(item.group(1)) != top:  # the least indented bullets only
            continue
        found = _lead_owners(item.group(2), names)
        if found is not None:
            rest = item.group(2)[found[2] :].strip()
            if not rest or re.match(r"(?:will|to)\b", rest):
                return found[0]
    return ()


def _link_minute(source: str) -> Minute | None:
    bracket = re.fullmatch(r"\[((?:\\.|[^\\\[\]])*)\]\(([^\s()<>]+)\)", source)
    if bracket:
        return Minute("link", re.sub(r"\\(.)", r"\1", bracket.group(1)), bracket.group(2))
    if re.fullmatch(r"https?://[^\s()<>]+", source):
        return Minute("link", "", source)
    return None


# ---------------------------------------------------------------------------------------------
# Rendering.


def _url(url: str) -> str:
    url = "".join(url.split())
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def _bullet(text: str, details: str = "") -> list[str]:
    lines = [f"- {text}"]
    for line in _silence(details).split("\n") if details else ():
        lines.append(f"  {line}" if line.strip() else "")
    return lines


def _minute_line(minute: Minute) -> str:
    text = user_text(minute.text)
    if minute.kind == "agreed":
        return f"{_INDENT}- {_AGREED}{text}"
    if minute.kind == "link":
        if not text:
            return f"{_INDENT}- {_url(minute.url)}"
        label = re.sub(r"([\\\[\]])", r"\\\1", text)
        return f"{_INDENT}- [{label}]({_url(minute.url)})"
    return f"{_INDENT}- {_escape_lead(text)}"


def _minutes_lines(minutes: tuple[Topic, ...] | str) -> list[str]:
    if isinstance(minutes, str):
        return _silence(minutes).split("\n") if minutes.strip() else []
    lines: list[str] = []
    for topic in minutes:
        title = _OTHER_BUSINESS if topic.title is None else _escape_lead(user_text(topic.title))
        lines.append(f"- {title}")
        lines.extend(_minute_line(minute) for minute in topic.minutes)
    return lines


def _action_line(action: Action, names: Collection[str]) -> str:
    done = f"{_DONE_MARKS[0]} " if action.done else ""
    text = user_text(action.text)
    owners = tuple(_name(owner) for owner in action.owners)
    if not owners and action.due is None:
        return done + _escape_lead(text)
    if action.due is None:
        # The group's own forms, when they read back as these owners: "Ricky will …", "chrism: …".
        found = _lead_owners(text, names)
        if not _needs_escape(text) and found is not None and found[:2] == (owners, text):
            return done + text
        plain = f"{', '.join(owners)}: {text}"
        found = _lead_owners(plain, names)
        if found is not None and found[:2] == (owners, text):
            return done + plain
    due = f" (due {action.due.isoformat()})" if action.due else ""
    who = ", ".join(f"**{owner}**" for owner in owners)
    head = f"{who}{due}" if who else due.lstrip()
    return f"{done}{head}: {text}"


def _render_section(name: str, notes: MeetingNotes) -> list[str]:
    if name == "Meeting Info":
        lines = []
        if notes.date:
            lines.append(f"Date: {notes.date:%Y%m%d}")
        if notes.start_time.strip():
            lines.append(f"Start time: {_one_line(notes.start_time)}")
        if notes.call_link.strip():
            label = "Zoom" if "zoom." in notes.call_link else "Call"
            lines.append(f"{label}: {''.join(notes.call_link.split())}")
        if notes.cancelled:
            lines.append("Cancelled.")
        return [part for line in lines for part in (line, "")][:-1]
    if name == "Agenda":
        out: list[str] = []
        for entry in notes.agenda:
            text = _escape_lead(user_text(entry.text))
            out += _bullet(f"{_NOT_DISCUSSED} {text}" if entry.left_over else text, entry.details)
        return out
    if name == "Participants":
        return [f"- {_escape_lead(user_text(person))}" for person in notes.participants]
    if name == "Minutes":
        return _minutes_lines(notes.minutes)
    names = name_words(notes.participants)
    out = []
    for action in notes.actions:
        out += _bullet(_action_line(action, names), action.details)
    return out


def _has_content(name: str, notes: MeetingNotes) -> bool:
    return bool(_render_section(name, notes))


def render(notes: MeetingNotes) -> str:
    """The notes file (Markdown that reads well on GitHub and in Zulip); ends with a newline.

    Writes the sections named in `notes.sections` and any other that has content, in the
    canonical order. Undiscussed agenda items are marked `*(not discussed)*`, closed actions
    `:white_check_mark:`; owners are written the group's way where that reads back unchanged
    (`chrism: …`, `Ricky will …`), else in bold, with the due date: `**Lorenz** (due 2020-12-15): …`.
    """
    out = [f"# {user_text(notes.title)} {notes.number:05d}".replace("#  ", "# ", 1)]
    for name in SECTIONS:
        if name not in notes.sections and not _has_content(name, notes):
            continue
        out += ["", f"## {name}", ""]
        body = _render_section(name, notes)
        out += body
        if not body:
            out.pop()
    return "\n".join(out) + "\n"


def split_post(text: str, limit: int) -> list[str]:
    """Cut a rendered post into parts of at most `limit` characters, between sections.

    A section too long for one part is cut between its top-level bullets (or paragraphs); the
    part that goes on starts with the heading again, marked "(continued)". A bullet is never cut,
    unless one bullet alone is longer than a part: then it is cut between its lines, and a line
    longer than that at a space (or, with no space, at the limit).
    """
    body = text.rstrip("\n")
    if len(body) <= limit:
        return [body]
    sections: list[list[str]] = []
    for line in body.split("\n"):
        if re.match(r"#{1,6} ", line) or not sections:
            sections.append([])
        sections[-1].append(line)
    parts: list[str] = []
    current: list[str] = []

    def flush() -> None:
        while current and not current[-1].strip():
            current.pop()
        if current:
            parts.append("\n".join(current).strip("\n"))
        current.clear()

    def fits(lines: list[str]) -> bool:
        return len("\n".join(current + lines).strip("\n")) <= limit

    for section in sections:
        if not fits(section):
            flush()
        if fits(section):
            current += section
            continue
        heading = section[0] if re.match(r"#{1,6} ", section[0]) else ""
        again = [f"{heading} (continued)", ""] if heading else []
        current += [heading] if heading else []
        for unit in _units(section[1:] if heading else section):
            if fits(unit):
                current += unit
                continue
            if any(line.strip() and line not in (heading, *again) for line in current):
                flush()
                current += again
                if fits(unit):
                    current += unit
                    continue
            for piece in _pieces(unit, limit - len("\n".join(again)) - 1):
                if not fits([piece]):
                    flush()
                    current += again
                current.append(piece)
    flush()
    return parts


def _units(lines: list[str]) -> list[list[str]]:
    """A section's lines cut into top-level bullets (with what is under them) and paragraphs."""
    units: list[list[str]] = []
    blank = True
    for line in lines:
        starts = (
            bool(line.strip())
            and not line.startswith(" ")
            and (blank or re.match(r"(?:[-*+]|\d+[.)])(?: |$)", line) is not None)
        )
        if starts or not units:
            units.append([])
        units[-1].append(line)
        blank = not line.strip()
    return units


def _pieces(unit: list[str], room: int) -> list[str]:
    """A unit's lines, each no longer than room (cut at a space where there is one)."""
    room = max(room, 1)
    out: list[str] = []
    for line in unit:
        while len(line) > room:
            cut = line.rfind(" ", 1, room + 1)
            cut = cut if cut > 0 else room
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return out


# ---------------------------------------------------------------------------------------------
# Parsing.

_MD = MarkdownIt("commonmark").enable("strikethrough")


@dataclass
class _Line:
    plain: str
    links: list[str]


@dataclass
class _Entry:
    text: str
    details: str
    first_line: int


def _inline_lines(inline: SyntaxTreeNode) -> list[_Line]:
    """An inline token's text line by line, links by their text, with the links' targets.

    Links around an image (badges) are left out.
    """
    lines = [_Line("", [])]
    children: list[Token] = inline.token.children if inline.token and inline.token.children else []
    in_link: list[str] = []
    has_image = False
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            lines.append(_Line("", []))
        elif child.type in ("text", "code_inline"):
            lines[-1].plain += child.content
        elif child.type == "link_open":
            in_link.append(str(child.attrGet("href") or ""))
            has_image = False
        elif child.type == "image":
            has_image = True
        elif child.type == "link_close" and in_link:
            href = in_link.pop()
            if not has_image:
                lines[-1].links.append(href)
    return lines


def _walk(node: SyntaxTreeNode) -> Iterable[SyntaxTreeNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _content_offset(line: str) -> int:
    marker = re.match(r"( *)([-*+]|\d{1,9}[.)])( *)", line)
    if not marker:
        return len(line) - len(line.lstrip(" "))
    spaces = len(marker.group(3))
    after = line[marker.end() :]
    width = spaces if 1 <= spaces <= 4 and after else 1
    return len(marker.group(1)) + len(marker.group(2)) + width


def _dedent(lines: list[str], offset: int) -> str:
    out = []
    for line in lines:
        strip = min(offset, len(line) - len(line.lstrip(" ")))
        out.append(line[strip:].rstrip() if not line.strip() else line[strip:])
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return "\n".join(out)


class _Reader:
    """Reads one file; collects remarks on what it read leniently or left out."""

    def __init__(self, text: str, filename: str, names: Collection[str]) -> None:
        self.source = text.replace("\r\n", "\n").replace("\r", "\n")
        self.lines = self.source.split("\n")
        self.filename = filename
        self.names = names
        self.remarks: list[str] = []
        self.root = SyntaxTreeNode(_MD.parse(self.source))

    def note(self, remark: str) -> None:
        self.remarks.append(remark)

    # -- structure

    def read(self) -> Reading:
        blocks = list(self.root.children)
        title_node: SyntaxTreeNode | None = None
        regions: dict[str, list[SyntaxTreeNode]] = {}
        order: list[str] = []
        section_lines: dict[str, tuple[int, int]] = {}
        preamble: list[SyntaxTreeNode] = []
        current: str | None = None
        for block in blocks:
            if block.type == "heading":
                heading = _one_line(self._heading_text(block))
                name = _SECTION_NAMES.get(heading.rstrip(":").lower())
                if name is not None:
                    if name in regions:
                        self.note(
                            f"a second {name} section (line {self._line(block)}) is read with the first"
                        )
                    else:
                        order.append(name)
                        regions[name] = []
                        section_lines[name] = (self._map(block)[1], len(self.lines))
                    if current is not None and current != name:
                        section_lines[current] = (section_lines[current][0], self._map(block)[0])
                    if name != heading:
                        self.note(f"section heading {heading!r} read as {name!r}")
                    current = name
                    continue
                if title_node is None and current is None and not preamble:
                    title_node = block
                    continue
            if current is None:
                preamble.append(block)
            else:
                regions[current].append(block)

        title, number, title_day = self._title(title_node)
        info = preamble + regions.get("Meeting Info", [])
        day, start, link, cancelled = self._info(info, title_day)
        agenda = self._agenda(regions.get("Agenda", []))
        participants = tuple(
            entry.text for entry in self._entries(regions.get("Participants", []), "Participants")
        )
        names = set(self.names) | name_words(participants)
        minutes: tuple[Topic, ...] | str = ()
        if "Minutes" in section_lines:
            start_line, end_line = section_lines["Minutes"]
            minutes = self._minutes(regions["Minutes"], start_line, end_line, agenda)
        actions = self._actions(regions.get("Actions", []), names)
        notes = MeetingNotes(
            title=title,
            number=number,
            date=day,
            start_time=start,
            call_link=link,
            cancelled=cancelled,
            agenda=agenda,
            participants=participants,
            minutes=minutes,
            actions=actions,
            sections=tuple(order),
        )
        missing = [name for name in SECTIONS if name not in order]
        if missing:
            self.note(f"no {', '.join(missing)} section")
        return Reading(notes, tuple(self.remarks))

    def _map(self, node: SyntaxTreeNode) -> tuple[int, int]:
        found = node.map
        if found is None:  # every block node has a map; a guard for the type checker
            raise NotesError(f"{self.filename}: a block without a line map")
        return found

    def _line(self, node: SyntaxTreeNode) -> int:
        return self._map(node)[0] + 1

    def _heading_text(self, node: SyntaxTreeNode) -> str:
        inline = node.children[0] if node.children else None
        return inline.content if inline is not None else ""

    def _title(self, node: SyntaxTreeNode | None) -> tuple[str, int, date | None]:
        named = re.search(r"meeting_(\d+)(?:_(\d{8}))?", self.filename)
        heading = _one_line(self._heading_text(node)) if node is not None else ""
        found = re.fullmatch(r"(.*?)\s*\b(\d{1,6})(?:\s+(\d{4}-?\d{2}-?\d{2}))?", heading)
        if found:
            if len(found.group(2)) != 5:
                self.note(f"meeting number written with {len(found.group(2))} digits: {found.group(2)}")
            number = int(found.group(2))
            title = found.group(1)
            if named and int(named.group(1)) != number:
                self.note(f"the file name says meeting {int(named.group(1))}, the title {number}")
            return title, number, _date(found.group(3)) if found.group(3) else None
        if named:
            self.note("no meeting number in the title: the file name's is used")
            return heading, int(named.group(1)), None
        raise NotesError(f"{self.filename or 'the file'}: no meeting number in the title or the file name")

    def _info(
        self, blocks: list[SyntaxTreeNode], title_day: date | None
    ) -> tuple[date | None, str, str, bool]:
        day: date | None = None
        link_day: date | None = None
        start = ""
        link = ""
        cancelled = False
        for block in blocks:
            for node in _walk(block):
                if node.type != "inline":
                    continue
                for line in _inline_lines(node):
                    label = re.match(r"\s*(date|start time|time)\s*:\s*(.*?)\s*$", line.plain, re.I)
                    dated = next(
                        (
                            _date(m.group(1))
                            for href in line.links
                            if (m := re.search(r"date=(\d{4}-\d{2}-\d{2})", href))
                        ),
                        None,
                    )
                    if label:
                        kind, value = label.group(1).lower(), label.group(2)
                        if kind == "date":
                            found = re.search(r"\b(\d{4}-?\d{2}-?\d{2})\b", value)
                            day = day or (_date(found.group(1)) if found else dated)
                        elif kind == "start time" or not start:
                            if kind == "time":
                                clock = re.search(r"(\d{3,4}\s*[A-Za-z]{0,4})\s*$", value)
                                value = clock.group(1) if clock else value
                                self.note(
                                    f"a 'Time:' line instead of Meeting Info; start time read as {value!r}"
                                )
                            start = start or value
                        link_day = link_day or dated
                        continue
                    if re.match(r"\W*cancel", line.plain, re.I):
                        cancelled = True
                    if not link:
                        bare = re.search(r"https?://[^\s<>\]]+", line.plain)
                        link = line.links[0] if line.links else (bare.group().rstrip(".,;:)") if bare else "")
        named = re.search(r"meeting_\d+_(\d{8})", self.filename)
        file_day = _date(named.group(1)) if named else None
        if day is None and link_day is not None:
            day = link_day
            self.note(f"date read from the time link: {day.isoformat()}")
        if day is None and title_day is not None:
            day = title_day
            self.note(f"date read from the title: {day.isoformat()}")
        if day is None and file_day is not None:
            day = file_day
            self.note(f"no date in the file: the file name's {day.isoformat()} is used")
        if day is not None and file_day is not None and day != file_day:
            self.note(f"the file name's date {file_day:%Y%m%d} is not the meeting's {day:%Y%m%d}")
        if not start:
            self.note("no start time")
        if not link:
            self.note("no call link")
        return day, start, link, cancelled

    # -- lists

    def _item_entry(self, item: SyntaxTreeNode) -> _Entry | None:
        first, end = self._map(item)
        head = self.lines[first]
        offset = _content_offset(head)
        text = head[offset:].strip()
        rest = first + 1
        if item.children and item.children[0].type == "paragraph":
            para_end = self._map(item.children[0])[1]
            text = " ".join([text] + [line.strip() for line in self.lines[first + 1 : para_end]]).strip()
            rest = para_end
        details = _dedent(self.lines[rest:end], offset)
        if not text and not details:
            return None
        return _Entry(text, details, first)

    def _entries(self, blocks: list[SyntaxTreeNode], section: str) -> list[_Entry]:
        """A section's items: its top-level list items, and its paragraphs' lines (one item each).

        A list right under a paragraph line belongs to that line (its details), unless the line
        itself looks like a bullet with its space missing (`-https://…`).
        """
        entries: list[_Entry] = []
        empty = 0
        last_para_end = -1
        last_was_typo = False
        for block in blocks:
            if block.type in ("bullet_list", "ordered_list"):
                items = [self._item_entry(item) for item in block.children]
                empty += sum(1 for entry in items if entry is None)
                found = [entry for entry in items if entry is not None]
                if entries and self._map(block)[0] == last_para_end and not last_was_typo:
                    lines = self.lines[self._map(block)[0] : self._map(block)[1]]
                    extra = _dedent(lines, 0)
                    last = entries[-1]
                    entries[-1] = _Entry(
                        last.text, "\n".join(filter(None, [last.details, extra])), last.first_line
                    )
                    self.note(
                        f"{section}: the list under line {last.first_line + 1} is kept as that item's details"
                    )
                else:
                    entries += found
                last_para_end = -1
            elif block.type == "paragraph":
                start, end = self._map(block)
                for number in range(start, end):
                    line = self.lines[number].strip()
                    if not line:
                        continue
                    typo = re.match(r"[-*+](?=\S)", line)
                    if typo:
                        self.note(
                            f"{section}: line {number + 1} read as a bullet (no space after {line[0]!r})"
                        )
                        line = line[1:]
                    entries.append(_Entry(line, "", number))
                    last_was_typo = typo is not None
                last_para_end = end
            elif block.type == "heading":
                self.note(f"{section}: heading at line {self._line(block)} left out")
                last_para_end = -1
            else:
                self.note(f"{section}: {block.type} at line {self._line(block)} left out")
                last_para_end = -1
        if empty:
            self.note(f"{section}: {empty} empty bullet{'s' if empty > 1 else ''} skipped")
        return entries

    def _agenda(self, blocks: list[SyntaxTreeNode]) -> tuple[AgendaEntry, ...]:
        out: list[AgendaEntry] = []
        entries = self._entries(blocks, "Agenda")
        if len(entries) == 1 and entries[0].text.upper() in ("N/A", "NONE") and not entries[0].details:
            self.note(f"Agenda: {entries[0].text!r} read as no item")
            return ()
        for entry in entries:
            text = entry.text
            left_over = False
            box = re.match(r"\[([ xX])\]\s*", text)
            if box:
                left_over = box.group(1) == " "
                text = text[box.end() :]
            elif text.startswith(_NOT_DISCUSSED + " ") or text == _NOT_DISCUSSED:
                left_over = True
                text = text[len(_NOT_DISCUSSED) :].lstrip()
            out.append(AgendaEntry(_unescape_lead(text), left_over, entry.details))
        return tuple(out)

    def _minutes(
        self, blocks: list[SyntaxTreeNode], start: int, end: int, agenda: tuple[AgendaEntry, ...]
    ) -> tuple[Topic, ...] | str:
        body = _dedent(self.lines[start:end], 0)
        if not body.strip():
            return ()
        tree = self._minutes_tree(blocks, {entry.text for entry in agenda})
        if tree is not None and "\n".join(_minutes_lines(tree)) == body:
            return tree
        self.note("Minutes kept as written")
        return body

    def _minutes_tree(self, blocks: list[SyntaxTreeNode], titles: set[str]) -> tuple[Topic, ...] | None:
        """The minutes as topics, if they are written the way `render` writes them."""
        if len(blocks) != 1 or blocks[0].type != "bullet_list":
            return None
        topics: list[Topic] = []
        for item in blocks[0].children:
            first = self._map(item)[0]
            head = self.lines[first][2:]
            title = None if head == _OTHER_BUSINESS else _unescape_lead(head)
            if title is not None and title not in titles:
                return None
            minutes: list[Minute] = []
            for child in item.children[1:]:
                if child.type != "bullet_list":
                    return None
                for sub in child.children:
                    line = self.lines[self._map(sub)[0]].strip()[2:]
                    if line.startswith(_AGREED):
                        minutes.append(Minute("agreed", line[len(_AGREED) :]))
                    else:
                        minutes.append(_link_minute(line) or Minute("note", _unescape_lead(line)))
            topics.append(Topic(title, tuple(minutes)))
        return tuple(topics)

    def _actions(self, blocks: list[SyntaxTreeNode], names: Collection[str]) -> tuple[Action, ...]:
        out: list[Action] = []
        for entry in self._entries(blocks, "Actions"):
            out.append(self._action(entry, names))
        return tuple(out)

    def _action(self, entry: _Entry, names: Collection[str]) -> Action:
        text = entry.text
        done = False
        box = re.match(r"\[([ xX])\]\s*", text)
        if box:
            done = box.group(1) != " "
            text = text[box.end() :]
        for mark in _DONE_MARKS:  # ours at the start; the group's :white_check_mark: at the end
            if text.startswith(mark + " ") or (mark == _DONE_MARKS[0] and text.endswith(" " + mark)):
                done = True
                text = text.removeprefix(mark).removesuffix(mark).strip()
        struck = re.fullmatch(r"~~(.+)~~", text)
        if struck:
            done = True
            text = struck.group(1).strip()
        bold = re.match(r"((?:\*\*[^*]+\*\*)(?:, \*\*[^*]+\*\*)*)?(?: ?\(due (\d{4}-\d{2}-\d{2})\))?: ", text)
        if bold and (bold.group(1) or bold.group(2)):
            owners = tuple(re.findall(r"\*\*([^*]+)\*\*", bold.group(1) or ""))
            due = date.fromisoformat(bold.group(2)) if bold.group(2) else None
            return Action(text[bold.end() :], owners, due, done, entry.details)
        found = _lead_owners(text, names)
        if found is not None:
            return Action(found[1], found[0], None, done, entry.details)
        text = _unescape_lead(text)
        trailing = _trailing_owner(text, names)
        if trailing:
            self.note(f"Actions: line {entry.first_line + 1}: owner {trailing[0]!r} read from the end")
            return Action(text, trailing, None, done, entry.details)
        below = _detail_owner(entry.details, names)
        if below:
            self.note(
                f"Actions: line {entry.first_line + 1}: owner {', '.join(below)!r} read from a line under it"
            )
        return Action(text, below, None, done, entry.details)


def _date(text: str) -> date:
    digits = text.replace("-", "")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def read(text: str, filename: str = "", names: Collection[str] = ()) -> Reading:
    """Read a notes file, with remarks on what was read leniently, guessed or left out.

    `names`: lowercased words that name people (e.g. `name_words` of every file's participants),
    so that owners who were not at this meeting are recognised; this meeting's participants
    always count. Raises NotesError for a file with no meeting number.
    """
    return _Reader(text, filename, frozenset(name.lower() for name in names)).read()


def parse(text: str, filename: str = "", names: Collection[str] = ()) -> MeetingNotes:
    """The notes of a file (see `read`)."""
    return read(text, filename, names).notes


# ---------------------------------------------------------------------------------------------
# The import summary.


def summary(readings: Mapping[str, Reading], skipped: Mapping[str, str] | None = None) -> str:
    """What an import read: meetings, actions, owners as written, files skipped and why."""
    notes = sorted((reading.notes for reading in readings.values()), key=lambda n: n.number)
    numbers = [n.number for n in notes]
    lines = [f"Meetings: {len(notes)}"]
    if notes:
        gaps = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        lines[0] += f", numbers {numbers[0]} to {numbers[-1]}"
        if gaps:
            lines[0] += f" (none for {', '.join(map(str, gaps))})"
        cancelled = [str(n.number) for n in notes if n.cancelled]
        if cancelled:
            lines[0] += f"; cancelled: {', '.join(cancelled)}"
        twice = [str(k) for k, v in Counter(numbers).items() if v > 1]
        if twice:
            lines.append(f"Numbers used twice: {', '.join(twice)}")
        lines.append(f"The next meeting is number {numbers[-1] + 1}.")
    actions = [action for n in notes for action in n.actions]
    done = sum(1 for action in actions if action.done)
    lines.append(f"Actions: {len(actions)} ({len(actions) - done} open, {done} done)")
    owners = Counter(owner for action in actions for owner in action.owners)
    ownerless = sum(1 for action in actions if not action.owners)
    listed = ", ".join(
        f"{name} ({count})" for name, count in sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    lines.append(f"Owners as written: {listed or 'none'}; actions without an owner: {ownerless}")
    raw = sum(1 for n in notes if isinstance(n.minutes, str))
    lines.append(f"Minutes kept as written: {raw} of {len(notes)} meetings")
    if skipped:
        lines.append(f"Skipped: {len(skipped)}")
        lines += [f"  {name}: {why}" for name, why in sorted(skipped.items())]
    else:
        lines.append("Skipped: none")
    return "\n".join(lines)
