"""Statement guard: accept one read-only ClickHouse statement, reject everything else.

The guard is the first of two barriers. It splits the text into tokens the way the ClickHouse
lexer does for strings, quoted identifiers and comments. It rejects anything that could write,
change a setting, leave the store or run more than one statement. It returns the statement
rebuilt without comments, so ClickHouse runs exactly the tokens the guard checked. The second
barrier is the `readonly = 1` session that every API query runs in (see `dashboards.store`).
That barrier has gaps: in chDB 26.9 `readonly = 1` still lets `SELECT ... INTO OUTFILE` write
its file and lets `KILL QUERY` and `SYSTEM STOP|START MERGES`, `TTL MERGES` and `MOVES` run, so
only the guard stops those. On a ClickHouse server, grant the API's user no SYSTEM or KILL
rights to close them there.

Known limits, all on the safe side: the guard is lexical, not a parser, so it also rejects some
valid reads, for example an unquoted column named `set` or `settings` (quote it), heredoc
strings (`$$...$$`), `#` comments, comments that contain a semicolon, non-ASCII characters
outside strings and a `FORMAT` clause (the API always returns JSON).
"""

import re
from dataclasses import dataclass

from dashboards.errors import RejectedQuery

# First keyword of the statements the API runs.
READ_STATEMENTS = frozenset({"SELECT", "WITH", "DESCRIBE", "DESC", "SHOW", "EXPLAIN", "EXISTS"})

# Words that start or hide a write, a setting change or a side effect wherever they appear.
DENIED_WORDS = {
    "INSERT": "writes rows",
    "ALTER": "changes a table",
    "DELETE": "deletes rows",
    "UPDATE": "updates rows",
    "CREATE": "creates an object",
    "DROP": "drops an object",
    "UNDROP": "restores an object",
    "ATTACH": "attaches an object",
    "DETACH": "detaches an object",
    "RENAME": "renames an object",
    "EXCHANGE": "swaps objects",
    "TRUNCATE": "deletes rows",
    "OPTIMIZE": "merges parts",
    "SYSTEM": "runs a SYSTEM command",
    "KILL": "kills queries",
    "GRANT": "changes access rights",
    "REVOKE": "changes access rights",
    "USE": "changes the session database",
    "SET": "changes a setting",
    "SETTINGS": "changes settings for the query",
    "OUTFILE": "writes a file",
    "BACKUP": "writes a backup",
    "RESTORE": "restores a backup",
    "MOVE": "moves data",
}

# Words that are denied as clauses but allowed as function names, such as `format(...)`.
DENIED_UNLESS_CALL = {
    "FORMAT": "sets the output format; the API always returns JSON",
    "REPLACE": "replaces a table",
}

# Table functions that read or write outside the store. `readonly = 1` also rejects `file` and
# `url` in chDB 26.9, but the guard names them all so the error message gives the reason.
EXTERNAL_TABLE_FUNCTIONS = frozenset(
    name.upper()
    for name in (
        "file", "fileCluster", "url", "urlCluster", "s3", "s3Cluster", "gcs", "azureBlobStorage",
        "azureBlobStorageCluster", "hdfs", "hdfsCluster", "remote", "remoteSecure", "cluster",
        "clusterAllReplicas", "mysql", "postgresql", "sqlite", "mongodb", "redis", "jdbc",
        "odbc", "executable", "input", "iceberg", "icebergS3", "deltaLake", "hudi",
    )
)  # fmt: skip

# One token: a comment, a string, a quoted identifier, a word, a number, or one operator.
# Strings and quoted identifiers take backslash escapes and doubled quotes, as in ClickHouse.
TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<unclosed_comment>/\*)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted_name>"(?:[^"\\]|\\.|"")*"|`(?:[^`\\]|\\.|``)*`)
  | (?P<unclosed_quote>['"`])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9][0-9A-Za-z_.]*)
  | (?P<operator>::|->|\|\||<=|>=|<>|!=|==|[-+*/%=<>?:.,;()\[\]{}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(sql: str) -> list[Token]:
    """Split `sql` into tokens; raise `RejectedQuery` on unclosed text or unknown characters."""
    tokens = []
    for match in TOKEN.finditer(sql):
        kind = match.lastgroup or "other"
        text = match.group()
        if kind == "unclosed_comment":
            raise RejectedQuery("comment is not closed: add */ or remove the comment")
        if kind == "unclosed_quote":
            raise RejectedQuery(f"quote {text} is not closed at offset {match.start()}")
        if kind == "other":
            raise RejectedQuery(
                f"character {text!r} at offset {match.start()} is not allowed outside strings"
            )
        tokens.append(Token(kind, text))
    return tokens


def check_read_only(sql: str) -> str:
    """Return `sql` as one read-only statement without comments, or raise `RejectedQuery`.

    Comments become single spaces and one trailing semicolon is dropped. Any other semicolon,
    in a comment too, is rejected: it means or hides a second statement.
    """
    tokens = tokenize(sql)
    for token in tokens:
        if token.kind in ("line_comment", "block_comment") and ";" in token.text:
            raise RejectedQuery(
                "a comment contains a semicolon, which hides a second statement; remove it"
            )
    tokens = [
        Token("space", " ") if t.kind in ("line_comment", "block_comment") else t for t in tokens
    ]
    significant = [t for t in tokens if t.kind != "space"]
    semicolons = [i for i, t in enumerate(significant) if t.text == ";"]
    if semicolons == [len(significant) - 1]:
        significant.pop()
        tokens = [t for t in tokens if t.text != ";"]
    elif semicolons:
        raise RejectedQuery("several statements: send one statement per request")
    if not significant:
        raise RejectedQuery("the query is empty")

    _check_statement_kind(significant)
    for index, token in enumerate(significant):
        if token.kind == "word":
            before = significant[index - 1].text if index > 0 else ""
            after = significant[index + 1].text if index + 1 < len(significant) else ""
            _check_word(token.text, before, after)
    return "".join(t.text for t in tokens).strip()


def _check_statement_kind(significant: list[Token]) -> None:
    first = significant[0].text.upper()
    if first in DENIED_WORDS:
        raise RejectedQuery(f"{first} is not allowed: it {DENIED_WORDS[first]}")
    if first == "(":
        inner = next((t.text.upper() for t in significant if t.text != "("), "")
        if inner not in ("SELECT", "WITH"):
            raise RejectedQuery("a statement that starts with ( must be a SELECT")
    elif first not in READ_STATEMENTS:
        raise RejectedQuery(
            f"statement {first} is not allowed: only "
            f"{', '.join(sorted(READ_STATEMENTS))} statements run through the API"
        )


def _check_word(text: str, before: str, after: str) -> None:
    word = text.upper()
    if before == "." or after == ".":
        return  # part of a qualified name such as system.settings
    if word in DENIED_WORDS:
        raise RejectedQuery(f"{word} is not allowed: it {DENIED_WORDS[word]}")
    if word in DENIED_UNLESS_CALL and after != "(":
        raise RejectedQuery(f"{word} is not allowed: it {DENIED_UNLESS_CALL[word]}")
    if word in EXTERNAL_TABLE_FUNCTIONS and after == "(":
        raise RejectedQuery(f"table function {text}() is not allowed: it reaches outside the store")
