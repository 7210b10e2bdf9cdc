"""Readers for the labels files we import: generic csv, MagnaTagATune and MTG-Jamendo.

Pure Python (no Django): each reader streams the file and returns `ParsedLabels`, or raises
`LabelFileError` listing every problem found (file, line, field), so nothing is written on bad input.
"""

from __future__ import annotations

import codecs
import csv
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from auditor.datasets.spreadsheet import from_spreadsheet_safe

FORMATS = ("csv", "mtat", "jamendo")
MAX_REPORTED_PROBLEMS = 25
MAX_TAG_NAME_LENGTH = 200
DEFAULT_MAX_FIELD_CHARS = 128 * 1024
# The csv format's optional column naming each clip's song or artist: the folds of an audit keep a group's clips
# together, so no clip is scored by a model that trained on another cut of the same recording.
GROUP_COLUMN = "group"
MAX_GROUP_CHARS = 200
MTAT_SEGMENT = re.compile(r"-\d+-\d+\.mp3$", re.IGNORECASE)
# Column names of the csv format: a tag of that name would make an export's header ambiguous.
RESERVED_TAG_NAMES = ("path", "tags", GROUP_COLUMN)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@dataclass
class LabelRow:
    line: int
    path: str
    tag_indices: tuple[int, ...]  # indices into ParsedLabels.tags of the tags given as present
    group: str = ""  # the song or artist the clip belongs to ("" when the file does not say)


@dataclass
class ParsedLabels:
    source: str
    file_format: str
    tags: list[str]
    rows: list[LabelRow]
    tag_descriptions: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


class LabelFileError(ValueError):
    """The labels file cannot be imported; `problems` says where and why, one line each."""

    def __init__(self, source: str, problems: list[str], total: int | None = None) -> None:
        self.source = source
        self.problems = problems
        self.total = total if total is not None else len(problems)
        more = f"\n  … and {self.total - len(problems)} more" if self.total > len(problems) else ""
        listed = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if self.total == 1 else "problems"
        super().__init__(f"{source}: {self.total} {noun}, nothing was imported:\n{listed}{more}")


class _Problems:
    """Collects problems up to a limit, counting the rest.

    With `show_content` False (a file on the server that the person importing did not upload), messages name
    lines and column positions but never quote what the file holds.
    """

    def __init__(self, source: str, *, show_content: bool = True) -> None:
        self.source = source
        self.show_content = show_content
        self.items: list[str] = []
        self.total = 0

    def quoted(self, value: str, before: str = " ") -> str:
        """`before` and the value quoted (" 'a.wav'") — or nothing, when the file's content is not to be shown."""
        return f"{before}{value[:80]!r}" if self.show_content else ""

    def got(self, value: str) -> str:
        return self.quoted(value, ", got ")

    def field(self, name: str, position: int) -> str:
        """How a message names a column: by its header name, or by its position when content is not shown."""
        return f"field {name!r}" if self.show_content else f"column {position}"

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_REPORTED_PROBLEMS:
            self.items.append(message)

    def raise_if_any(self) -> None:
        if self.total:
            raise LabelFileError(self.source, self.items, self.total)


def read_labels(
    path: str | Path, file_format: str, *, show_content: bool = True, max_field_chars: int = DEFAULT_MAX_FIELD_CHARS
) -> ParsedLabels:
    """Parse a labels file of the given format (csv, mtat or jamendo).

    `show_content` False keeps the file's content out of every message (see `_Problems`); a field longer than
    `max_field_chars` is a problem of its line.
    """
    path = Path(path)
    if file_format not in FORMATS:
        raise LabelFileError(path.name, [f"unknown format {file_format!r}; expected one of {', '.join(FORMATS)}"])
    if not path.is_file():
        raise LabelFileError(str(path), ["file not found"])
    reader = {"csv": _read_csv, "mtat": _read_mtat, "jamendo": _read_jamendo}[file_format]
    # The csv module's limit is one per process; every import sets the configured one before it reads.
    csv.field_size_limit(max_field_chars)
    return reader(path, _Problems(path.name, show_content=show_content), max_field_chars)


def normalize_clip_path(raw: str) -> tuple[str, str]:
    """Return (normalized relative path, problem); problem is '' when the path is acceptable. A problem has a
    `{path}` slot where the path may be quoted (" '../a.wav'") or left out."""
    value = raw.strip()
    if not value:
        return "", "empty path"
    if "\x00" in value:
        return "", "path contains a NUL character"
    if value.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(value):
        return "", "absolute path{path}; paths must be relative to the audio root"
    normalized = posixpath.normpath(value)
    if normalized == ".." or normalized.startswith("../"):
        return "", "path{path} escapes the audio root"
    if normalized == ".":
        return "", "path{path} names the audio root itself, not a file"
    return normalized, ""


def check_tag_name(name: str) -> str:
    """Return a problem with a tag name, or ''."""
    if not name:
        return "empty tag name"
    if len(name) > MAX_TAG_NAME_LENGTH:
        return f"tag name longer than {MAX_TAG_NAME_LENGTH} characters"
    if name in RESERVED_TAG_NAMES:
        return f"a tag may not be called {name!r}: it names a column of the csv format (rename the tag)"
    return ""


def _decoded_lines(path: Path, problems: _Problems) -> Iterator[str]:
    """Yield the file's lines decoded as UTF-8 (a BOM is allowed); stop at the first bad byte."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.add(
                    f"line {number}: not UTF-8 (byte {exc.start + 1} is 0x{raw[exc.start]:02x}); save the file as UTF-8"
                )
                return


def _csv_rows(reader, problems: _Problems, max_field_chars: int) -> Iterator[list[str]]:
    """The rows of a csv reader; a row the csv module cannot read (a field over the limit, a stray quote) is a
    problem of its line, and reading stops there: what follows it cannot be told apart reliably."""
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            if "field larger than field limit" in str(exc):
                limit = f"longer than {max_field_chars} characters (IMPORT_MAX_FIELD_CHARS)"
                problems.add(f"line {line}: a field is {limit}")
            else:
                problems.add(f"line {line}: cannot be read as csv ({exc})")
            return
        yield values


class _RowCollector:
    """Shared bookkeeping: tag name → index, duplicate paths, rows."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems
        self.tags: list[str] = []
        self.tag_index: dict[str, int] = {}
        self.descriptions: dict[str, str] = {}
        self.rows: list[LabelRow] = []
        self.first_line_of_path: dict[str, int] = {}

    def tag(self, name: str) -> int:
        index = self.tag_index.get(name)
        if index is None:
            index = self.tag_index[name] = len(self.tags)
            self.tags.append(name)
        return index

    def add(self, line: int, raw_path: str, tag_indices: tuple[int, ...], *, path_field: str, group: str = "") -> None:
        path, problem = normalize_clip_path(raw_path)
        if problem:
            shown = problem.format(path=self.problems.quoted(raw_path.strip()))
            self.problems.add(f"line {line}, field {path_field!r}: {shown}")
            return
        first = self.first_line_of_path.get(path)
        if first is not None:
            self.problems.add(
                f"line {line}, field {path_field!r}: duplicate path{self.problems.quoted(path)} (first on line {first})"
            )
            return
        self.first_line_of_path[path] = line
        self.rows.append(LabelRow(line, path, tag_indices, group.strip()[:MAX_GROUP_CHARS]))

    def result(self, source: str, file_format: str, notices: list[str] | None = None) -> ParsedLabels:
        self.problems.raise_if_any()
        if not self.rows:
            raise LabelFileError(source, ["no clips: the file has a header but no rows"])
        return ParsedLabels(source, file_format, self.tags, self.rows, self.descriptions, notices or [])


def _header_problem_for_tag_columns(header: list[str], tag_columns: list[int], problems: _Problems) -> None:
    """Problems with the tag columns' names; `tag_columns` are their indices in `header` (messages count from 1)."""
    seen: set[str] = set()
    for index in tag_columns:
        name = header[index]
        problem = check_tag_name(name)
        if problem:
            problems.add(f"line 1, column {index + 1}: {problem}")
        elif name in seen:
            problems.add(f"line 1, column {index + 1}: duplicate column{problems.quoted(name)}")
        seen.add(name)


def _binary_tags(
    values: list[str], columns: list[int], names: list[str], line: int, problems: _Problems
) -> tuple[int, ...]:
    """Indices (into `names`) of the 0/1 columns that hold 1; problems for anything else."""
    present = []
    for tag_position, column in enumerate(columns):
        value = values[column].strip()
        if value == "1":
            present.append(tag_position)
        elif value != "0":
            where = problems.field(names[tag_position], column + 1)
            problems.add(f"line {line}, {where}: expected 0 or 1{problems.got(value)}")
    return tuple(present)


def _data_rows(reader, width: int, problems: _Problems, max_field_chars: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank row of a csv reader; rows of the wrong width are problems."""
    for values in _csv_rows(reader, problems, max_field_chars):
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != width:
            problems.add(f"line {line}: {len(values)} fields, the header has {width}")
            continue
        yield line, values


def _header(reader, problems: _Problems, max_field_chars: int) -> list[str]:
    """The header row's names, stripped (and unescaped from the spreadsheet-safe form our exports write)."""
    header = next(_csv_rows(reader, problems, max_field_chars), None)
    problems.raise_if_any()
    return [from_spreadsheet_safe(name.strip()) for name in header or []]


def _read_csv(path: Path, problems: _Problems, max_field_chars: int) -> ParsedLabels:
    reader = csv.reader(_decoded_lines(path, problems))
    header = _header(reader, problems, max_field_chars)
    if not header:
        problems.add("the file is empty; expected a header row")
        problems.raise_if_any()
    if "path" not in header:
        problems.add("line 1: missing column 'path'")
        problems.raise_if_any()
    path_column = header.index("path")
    rows = _RowCollector(problems)
    notices: list[str] = []

    group_column = header.index(GROUP_COLUMN) if GROUP_COLUMN in header else None
    if "tags" in header:
        tags_column = header.index("tags")
        ignored = [name for name in header if name not in ("path", "tags", GROUP_COLUMN)]
        if ignored:
            notices.append(f"columns ignored (the 'tags' column holds the labels): {', '.join(ignored)}")
        for line, values in _data_rows(reader, len(header), problems, max_field_chars):
            indices = []
            cell = values[tags_column].strip()
            for name in (from_spreadsheet_safe(part.strip()) for part in cell.split(";")) if cell else ():
                problem = check_tag_name(name)
                if problem:
                    problems.add(f"line {line}, field 'tags': {problem}{problems.quoted(cell, ' in ')}")
                    continue
                indices.append(rows.tag(name))
            raw_path = from_spreadsheet_safe(values[path_column].strip())
            group = "" if group_column is None else from_spreadsheet_safe(values[group_column].strip())
            rows.add(line, raw_path, tuple(sorted(set(indices))), path_field="path", group=group)
        return rows.result(path.name, "csv", notices)

    if len(header) < 2:
        problems.add("line 1: no tag columns; expected a 'tags' column or one 0/1 column per tag")
        problems.raise_if_any()
    _read_binary_columns(
        reader,
        header,
        path_column="path",
        non_tag_columns=("path", GROUP_COLUMN),
        rows=rows,
        max_field_chars=max_field_chars,
        unescape_paths=True,
        group_of=None if group_column is None else (lambda values: from_spreadsheet_safe(values[group_column])),
    )
    return rows.result(path.name, "csv", notices)


def _read_binary_columns(
    reader,
    header: list[str],
    *,
    path_column: str,
    non_tag_columns: tuple[str, ...],
    rows: _RowCollector,
    max_field_chars: int,
    unescape_paths: bool = False,
    group_of: Callable[[list[str]], str] | None = None,
) -> None:
    """Rows of a wide file: one 0/1 column per tag (every column not in `non_tag_columns`); `group_of` reads a
    row's song or artist."""
    problems = rows.problems
    path_index = header.index(path_column)
    tag_columns = [i for i, name in enumerate(header) if name not in non_tag_columns]
    tag_names = [header[i] for i in tag_columns]
    _header_problem_for_tag_columns(header, tag_columns, problems)
    problems.raise_if_any()
    for name in tag_names:
        rows.tag(name)
    for line, values in _data_rows(reader, len(header), problems, max_field_chars):
        present = _binary_tags(values, tag_columns, tag_names, line, problems)
        raw_path = values[path_index]
        rows.add(
            line,
            from_spreadsheet_safe(raw_path.strip()) if unescape_paths else raw_path,
            present,
            path_field=path_column,
            group=group_of(values) if group_of else "",
        )


def _read_mtat(path: Path, problems: _Problems, max_field_chars: int) -> ParsedLabels:
    """MagnaTagATune annotations_final.csv: tab-separated, quoted; clip_id, 188 tag columns, mp3_path."""
    reader = csv.reader(_decoded_lines(path, problems), delimiter="\t", quotechar='"')
    header = [name.strip() for name in next(_csv_rows(reader, problems, max_field_chars), None) or []]
    for required in ("clip_id", "mp3_path"):
        if required not in header:
            problems.add(f"line 1: missing column {required!r} (is this MagnaTagATune's annotations_final.csv?)")
    problems.raise_if_any()
    rows = _RowCollector(problems)
    _read_binary_columns(
        reader,
        header,
        path_column="mp3_path",
        non_tag_columns=("clip_id", "mp3_path"),
        rows=rows,
        max_field_chars=max_field_chars,
        group_of=lambda values: mtat_song(values[header.index("mp3_path")]),
    )
    return rows.result(path.name, "mtat")


def mtat_song(mp3_path: str) -> str:
    """The song a MagnaTagATune clip was cut from: its file name without the segment's "-START-END.mp3"
    ("f/artist-album-01-title-30-59.mp3" → "artist-album-01-title"). Each song gives many clips."""
    name = mp3_path.strip().rsplit("/", 1)[-1]
    return MTAT_SEGMENT.sub("", name) or name


JAMENDO_COLUMNS = ["TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION"]


def _read_jamendo(path: Path, problems: _Problems, max_field_chars: int) -> ParsedLabels:
    """MTG-Jamendo autotagging*.tsv: TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION, then category---tag fields."""
    lines = _decoded_lines(path, problems)
    header = next(lines, "").rstrip("\r\n").split("\t")
    if [h.strip() for h in header[:5]] != JAMENDO_COLUMNS:
        found = ", ".join(h.strip()[:40] for h in header[:6])
        problems.add(
            "line 1: expected the header TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, TAGS (tab-separated)"
            + problems.got(found)
        )
        problems.raise_if_any()
    rows = _RowCollector(problems)
    for line, text in enumerate(lines, start=2):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        fields = text.split("\t")
        while fields and not fields[-1].strip():
            fields.pop()  # trailing tabs
        if len(fields) < 5:
            problems.add(f"line {line}: {len(fields)} fields; expected at least 5 (TRACK_ID … DURATION)")
            continue
        long_field = next((i for i, value in enumerate(fields, start=1) if len(value) > max_field_chars), None)
        if long_field is not None:
            problems.add(
                f"line {line}, field {long_field}: longer than {max_field_chars} characters (IMPORT_MAX_FIELD_CHARS)"
            )
            continue
        try:
            float(fields[4])
        except ValueError:
            problems.add(f"line {line}, field 'DURATION': expected seconds{problems.got(fields[4])}")
        indices = []
        for position, raw_tag in enumerate(fields[5:], start=6):
            name = raw_tag.strip()
            category, sep, tag = name.partition("---")
            if not name:
                problems.add(f"line {line}, field {position} (TAGS): empty tag name")
                continue
            if not sep or not category or not tag:
                problems.add(f"line {line}, field {position} (TAGS): expected 'category---tag'{problems.got(name)}")
                continue
            problem = check_tag_name(name)
            if problem:
                problems.add(f"line {line}, field {position} (TAGS): {problem}")
                continue
            indices.append(rows.tag(name))
            rows.descriptions.setdefault(name, f"{tag} ({category})")
        rows.add(line, fields[3], tuple(sorted(set(indices))), path_field="PATH", group=fields[1])  # ARTIST_ID
    return rows.result(path.name, "jamendo")
