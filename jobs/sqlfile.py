"""Read the job's SQL files: split them into statements and fill in `${name}` parameters.

Flink SQL has no bind parameters for the `WITH` options of a table, so topic names and
addresses are substituted as text. Every value is checked to be a plain literal (no quote,
backslash or line break) before it is put into the statement.
"""

import re
import string
from dataclasses import dataclass
from importlib import resources

from core.errors import ConfigError

SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:,\-/@]*$")
# `SET 'key' = 'value'`, the SQL client's syntax; TableEnvironment.execute_sql rejects it,
# so the runner applies it to the table config itself.
SET_OPTION = re.compile(r"^SET\s+'([^']+)'\s*=\s*'([^']*)'\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a file, with its 1-based line number there."""

    file: str
    line: int
    text: str

    @property
    def code(self) -> str:
        """Return the statement without its leading and whole-line comments."""
        lines = [line for line in self.text.splitlines() if not line.lstrip().startswith("--")]
        return "\n".join(lines).strip()

    @property
    def is_insert(self) -> bool:
        return self.code.upper().startswith("INSERT")

    @property
    def option(self) -> tuple[str, str] | None:
        """Return (key, value) of a `SET` statement, or None for any other statement."""
        match = SET_OPTION.match(" ".join(self.code.splitlines()))
        return (match.group(1), match.group(2)) if match else None

    @property
    def first_line(self) -> str:
        """Return the first line that is not a comment, for log lines."""
        return self.code.splitlines()[0]


def split_statements(text: str, file: str = "<sql>") -> list[Statement]:
    """Split SQL text on `;` outside quotes, identifiers and comments.

    Comments stay in the statements that follow them; statements holding only comments
    are dropped.
    """
    statements: list[Statement] = []
    current: list[str] = []
    start_line = line = 1
    quote: str | None = None
    i = 0
    while i < len(text):
        char = text[i]
        if quote is None and text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end == -1 else end
            current.append(text[i:end])
            i = end
            continue
        if char == "\n":
            line += 1
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'`":
            quote = char
        elif char == ";":
            _append(statements, file, start_line, "".join(current))
            current = []
            start_line = line
            i += 1
            continue
        current.append(char)
        i += 1
    if quote is not None:
        raise ConfigError(f"{file}: unterminated {quote} quote")
    _append(statements, file, start_line, "".join(current))
    return statements


def _append(statements: list[Statement], file: str, start_line: int, chunk: str) -> None:
    for offset, line in enumerate(chunk.split("\n")):
        if line.strip() and not line.strip().startswith("--"):
            statements.append(Statement(file, start_line + offset, chunk.strip()))
            return


def substitute(text: str, parameters: dict[str, str], file: str = "<sql>") -> str:
    """Replace every `${name}` in `text`; raise `ConfigError` on a missing or unsafe value."""
    for name, value in parameters.items():
        if not SAFE_VALUE.match(value):
            raise ConfigError(
                f"value {value!r} of SQL parameter {name} contains characters that are not "
                "allowed in a topic name or address (letters, digits and ._:,-/@)"
            )
    try:
        return string.Template(text).substitute(parameters)
    except KeyError as exc:
        raise ConfigError(f"{file}: SQL parameter {exc.args[0]} has no value") from exc
    except ValueError as exc:
        raise ConfigError(f"{file}: invalid parameter placeholder: {exc}") from exc


def load_statements(name: str, parameters: dict[str, str]) -> list[Statement]:
    """Read `jobs/sql/<name>.sql`, fill in the parameters and split it into statements."""
    file = f"{name}.sql"
    try:
        text = resources.files("jobs").joinpath("sql", file).read_text()
    except FileNotFoundError as exc:
        raise ConfigError(f"SQL file jobs/sql/{file} not found") from exc
    return split_statements(substitute(text, parameters, file), file)
