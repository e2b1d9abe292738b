"""Text that came from a student, made safe once and escaped for where it lands.

Everything a submission controls reaches the grader as text: folder and file names (bytes the file
system hands over, maybe not UTF-8), exception messages and values from the kernel (maybe with
unpaired surrogates), lines of code. `safe_text` is applied once, where such text enters the grader:
it always gives valid UTF-8 (a byte that was not UTF-8 becomes `\\xe9`, an unpaired surrogate
`\\udc80`), on one line, without control characters or the invisible characters that reorder a
line. Each place the text then lands escapes it for that place, by one rule each:

- `markdown_line`: the feedback page (Markdown, often shown as HTML): no raw HTML, no Markdown
  markup, one line, so a message cannot add a line, a heading, a mark or a tag of its own;
- `html_text`: the class report (HTML): element text or a double-quoted attribute, no tag or entity of
  the student's;
- `csv_cell`: a spreadsheet cell: a leading `= + - @` (or tab, carriage return) is neutralised with a
  leading `'`, as OWASP advises against CSV injection;
- `terminal_line`: the instructor's terminal: no escape sequence or control character can act.
"""

from __future__ import annotations

import re

SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls, DEL, and the format characters that reorder or hide text (bidirectional
# embeddings, overrides and isolates, zero-width joiners, the BOM, the line and paragraph separators).
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
WHITESPACE = re.compile("[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]~|])")  # emphasis, code, links and images, strike-through, table cells
MARKDOWN_BLOCK = re.compile(r"^(\d*)([#+-]|(?<=\d)[.)])")  # what starts a heading, quote, list or rule
HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
FORMULA_START = ("=", "+", "-", "@")
MAX_CHARACTERS = 2000  # a student's text is cut here, so no name or message can fill a page


def escape_surrogate(match: re.Match) -> str:
    """`\\xe9` for a byte the file system could not decode (Python's surrogateescape), else `\\udc80`."""
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def safe_text(value: object, limit: int = MAX_CHARACTERS) -> str:
    """`value` as text a student may have controlled, made safe once: valid UTF-8 (undecodable bytes and
    unpaired surrogates escaped), one line (line breaks and tabs become a space), no control or
    reordering characters, at most `limit` characters. Applying it again changes nothing."""
    text = value if isinstance(value, str) else str(value)
    text = SURROGATE.sub(escape_surrogate, text)
    text = INVISIBLE.sub("", WHITESPACE.sub(" ", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown_line(value: object) -> str:
    """Student text as literal text in one line of Markdown: HTML characters as entities, Markdown
    markup backslash-escaped (so `**Total: 24 / 24**` shows its stars, and `<img>` shows as text)."""
    text = MARKDOWN_INLINE.sub(r"\\\1", safe_text(value))
    text = MARKDOWN_BLOCK.sub(r"\1\\\2", text)
    return "".join(HTML_ESCAPES.get(character, character) for character in text)


def html_text(value: object) -> str:
    """Student text as literal text in HTML, in an element or a double-quoted attribute: `<`, `>`, `&` and `"`
    become entities, so `<img onerror=...>` or `<a href=...>` shows as text and runs or links nothing."""
    return "".join(HTML_ESCAPES.get(character, character) for character in safe_text(value))


def csv_cell(value: object) -> str:
    """Student text as a spreadsheet cell that no spreadsheet runs: a cell that would start a formula
    (`= + - @`, after spaces too; safe_text has made tabs and line breaks spaces) gets a leading `'`."""
    text = safe_text(value)
    return "'" + text if text.lstrip().startswith(FORMULA_START) else text


def terminal_line(value: object) -> str:
    """Text for the instructor's terminal: no escape sequence, control character or line break of the student's."""
    return safe_text(value)
