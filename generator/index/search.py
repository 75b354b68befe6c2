"""Ranked search over the index (no extension, works offline), answered from a word index
kept in memory.

Ranking tiers, best first (docs/index.md has the evidence behind the design):

1000  the name is the query (`payment-api`, `Payment API`, `payment api`)
 800  the name starts with the query (`pay`, `payment`)
 600  every query word is a whole word of the name, title, tags or owner
 400  every query word is a whole word somewhere, description included
 200  every query word starts a word somewhere (`pay` in "payments team")
 100  every query word occurs inside some word (`ment` in "payment")

Within a tier, +50 when every query word starts a word of the name; then shorter names,
then name and ref in alphabetical order. Every query word must match somewhere.

In SQL every query scans every entity's words (10–25 ms at 100k entities). Instead, the
entities are numbered in tie-break order and each word maps to the set of entities holding
it, as a Python int used as a bit set (the best-placed entity is the highest bit). A query
is a few ANDs and ORs of those ints and a read of the highest bits; what a result shows is
read from DuckDB (by `ref`, through its ART index) the first time, then kept. The word index
is loaded once per index revision (`cache.py`); `update_files` carries it forward in its own
process by masking the replaced entities and scoring the few re-read ones one by one (an
overlay), so a write does not pay a reload.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from .cache import cached, carry_forward
from .rows import words

MAX_LIMIT = 500
"""The most results one query returns."""

OVERLAY_LIMIT = 2000
"""Entities re-read since the last load beyond which carrying forward stops (reload)."""

EXACT, NAME_PREFIX, NAMED_WORD, WORD, WORD_PREFIX, INSIDE = 1000, 800, 600, 400, 200, 100
NAME_BONUS = 50
"""The tiers of the module docstring and the bonus for query words starting name words."""

_COLUMNS = ("kind", "namespace", "name", "title", "description", "owner", "tags", "ref")
_SHOWN = ", ".join(_COLUMNS)
_NAME, _TITLE, _ANYWHERE = 0, 1, 2
"""Posting lists: words of the name; of the title, tags and owner; of everything."""
_ORDER = "length(name), name, ref"
_LAST = "\U0010ffff"

Bits = int
Postings = dict[str, "Bits | tuple[int, ...]"]


def _pack(size: int, numbers: Iterable[int]) -> Bits:
    """The bit set of entity numbers among `size` entities (number n is bit size - 1 - n)."""
    packed = bytearray((size + 7) // 8)
    top = size - 1
    for number in numbers:
        position = top - number
        packed[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(packed, "little")


@dataclass(frozen=True, slots=True)
class _Loaded:
    """The word index of one index revision, as loaded.

    Entities are numbered in tie-break order (`_ORDER`). Posting lists of words held by
    many entities are bit sets; the others are tuples of numbers (a bit set costs size/8
    bytes, whatever it holds). `shown` keeps what results showed (`_COLUMNS`, by ref): the
    first search returning an entity reads it from DuckDB, later ones from here — loading
    every entity's fields up front would double the load.
    """

    size: int
    refs: list[str]
    names: list[str]
    numbers: dict[str, int]
    sorted_names: list[str]
    sorted_numbers: list[int]
    vocabulary: list[str]
    postings: tuple[Postings, Postings, Postings]
    kinds: dict[str, Bits]
    shown: dict[str, tuple] = field(default_factory=dict)

    def bits(self, numbers: Iterable[int]) -> Bits:
        """The bit set of entity numbers."""
        return _pack(self.size, numbers)

    def union(self, field: int, terms: Iterable[str]) -> Bits:
        """Entities holding any of `terms` in `field`."""
        table = self.postings[field]
        dense = 0
        sparse: list[int] = []
        for term in terms:
            found = table.get(term)
            if isinstance(found, int):
                dense |= found
            elif found:
                sparse.extend(found)
        return dense | self.bits(sparse) if sparse else dense

    def best(self, found: Bits, count: int) -> Iterator[int]:
        """Up to `count` entity numbers of `found`, best-placed first."""
        top = self.size - 1
        while found and count > 0:
            high = found.bit_length() - 1
            yield top - high
            found ^= 1 << high
            count -= 1


@dataclass(frozen=True, slots=True)
class _Entry:
    """An entity re-read by an update since the load, scored on its own."""

    ref: str
    name: str
    kind: str
    shown: tuple
    name_words: frozenset[str]
    named_words: frozenset[str]
    all_words: frozenset[str]

    def score(self, tokens: list[str], compact: str) -> int:
        """This entity's score for the query, 0 when some token matches nowhere."""
        levels = []
        for token in tokens:
            if token in self.named_words:
                levels.append(NAMED_WORD)
            elif token in self.all_words:
                levels.append(WORD)
            elif any(w.startswith(token) for w in self.all_words):
                levels.append(WORD_PREFIX)
            elif any(token in w for w in self.all_words):
                levels.append(INSIDE)
            else:
                return 0
        tier = min(levels)
        if self.name == compact:
            tier = EXACT
        elif self.name.startswith(compact):
            tier = NAME_PREFIX
        bonus = all(any(w.startswith(t) for w in self.name_words) for t in tokens)
        return tier + (NAME_BONUS if bonus else 0)


@dataclass(frozen=True, slots=True)
class _WordIndex:
    """A loaded word index, entities re-read since masked out (`alive`) and kept aside."""

    loaded: _Loaded
    alive: Bits
    overlay: tuple[_Entry, ...] = ()

    def ranked(self, tokens: list[str], kind: str | None, limit: int
               ) -> list[tuple[int, str, tuple | None]]:
        """(score, ref, shown fields or None when not known yet) of the best `limit`
        entities, best first."""
        compact = "-".join(tokens)
        loaded = self.loaded
        mask = self.alive
        if kind is not None:
            mask &= loaded.kinds.get(kind, 0)
        found = [(score, loaded.names[n], loaded.refs[n], loaded.shown.get(loaded.refs[n]))
                 for score, n in _ranked(loaded, tokens, compact, mask, limit)]
        found += [(score, e.name, e.ref, e.shown) for e in self.overlay
                  if (kind is None or e.kind == kind) and (score := e.score(tokens, compact))]
        if self.overlay:  # the loaded ones come in this order already
            found.sort(key=lambda row: (-row[0], len(row[1]), row[1], row[2]))
        return [(score, ref, shown) for score, _, ref, shown in found[:limit]]

    def advance(self, entries: list[_Entry], replaced: Iterable[str]) -> _WordIndex | None:
        """This index with the `replaced` refs gone and `entries` (re-read) added."""
        replaced = set(replaced)
        overlay = tuple(e for e in self.overlay if e.ref not in replaced) + tuple(entries)
        if len(overlay) > OVERLAY_LIMIT:
            return None
        numbers = [self.loaded.numbers[r] for r in replaced if r in self.loaded.numbers]
        alive = self.alive & ~self.loaded.bits(numbers) if numbers else self.alive
        return _WordIndex(self.loaded, alive, overlay)


def _ranked(loaded: _Loaded, tokens: list[str], compact: str, mask: Bits, limit: int
            ) -> list[tuple[int, int]]:
    """(score, number) of the best `limit` loaded entities within `mask`, best first.

    Tiers are visited best first and only computed when the ones above leave room.
    """
    vocabulary = loaded.vocabulary

    def starting(token: str) -> list[str]:
        first = bisect_left(vocabulary, token)
        return vocabulary[first:bisect_left(vocabulary, token + _LAST, first)]

    def each(make: Callable[[str], Bits]) -> Callable[[], Bits]:
        def every() -> Bits:
            result = mask
            for token in tokens:
                result &= make(token)
                if not result:
                    break
            return result
        return every

    def names(upper: str) -> Bits:
        first = bisect_left(loaded.sorted_names, compact)
        last = bisect_left(loaded.sorted_names, upper, first)
        return mask & loaded.bits(loaded.sorted_numbers[first:last])

    tiers: list[tuple[int, Callable[[], Bits]]] = [
        (EXACT, lambda: names(compact + "\0")),
        (NAME_PREFIX, lambda: names(compact + _LAST)),
        (NAMED_WORD, each(lambda t: loaded.union(_NAME, [t]) | loaded.union(_TITLE, [t]))),
        (WORD, each(lambda t: loaded.union(_ANYWHERE, [t]))),
        (WORD_PREFIX, each(lambda t: loaded.union(_ANYWHERE, starting(t)))),
        (INSIDE, each(lambda t: loaded.union(_ANYWHERE, [w for w in vocabulary if t in w]))),
    ]
    bonus: Bits | None = None
    taken = 0
    found: list[tuple[int, int]] = []
    for base, make in tiers:
        matching = make()
        fresh = matching & ~taken
        if fresh:
            if bonus is None:
                bonus = each(lambda t: loaded.union(_NAME, starting(t)))()
            for score, part in ((base + NAME_BONUS, fresh & bonus), (base, fresh & ~bonus)):
                found += [(score, n) for n in loaded.best(part, limit - len(found))]
                if len(found) >= limit:
                    return found
        taken |= matching
    return found


_POSTINGS = f"""
    WITH numbered AS MATERIALIZED (
             SELECT (row_number() OVER (ORDER BY {_ORDER}) - 1)::INTEGER AS n,
                    name_words, title_words, search_text
             FROM entities),
         postings AS MATERIALIZED (
             SELECT {_NAME} AS field, n, unnest(string_split(trim(name_words), ' ')) AS word
             FROM numbered
             UNION ALL SELECT {_TITLE}, n, unnest(string_split(trim(title_words), ' '))
             FROM numbered
             UNION ALL SELECT {_ANYWHERE}, n, unnest(string_split(trim(search_text), ' '))
             FROM numbered),
         counted AS (SELECT field, word, count(*) >= $threshold AS dense FROM postings
                     WHERE word <> '' GROUP BY ALL)
    SELECT field, word,
           (bitstring_agg(n, 0, $last) FILTER (WHERE dense))::BLOB,
           list(n) FILTER (WHERE NOT dense)
    FROM postings JOIN counted USING (field, word)
    GROUP BY ALL"""
"""Each (field, word) with a bit set when dense, else the list of entity numbers."""


def _load(con: duckdb.DuckDBPyConnection) -> _WordIndex:
    """Number the entities in tie-break order and gather every word's posting lists.

    A word held by at least 1/256 of the entities gets a bit set, built by DuckDB
    (`bitstring_agg`); rarer words get a tuple of numbers, so memory stays proportional to
    the postings however large the vocabulary.
    """
    rows = con.execute(f"SELECT ref, name, lower(kind) FROM entities ORDER BY {_ORDER}"
                       ).fetchall()
    size = len(rows)
    refs = [row[0] for row in rows]
    names = [row[1] for row in rows]
    postings: tuple[Postings, Postings, Postings] = ({}, {}, {})
    kinds: dict[str, Bits] = {}
    if size:
        for column, word, packed, numbers in con.execute(_POSTINGS, {
                "threshold": max(2, size // 256), "last": size - 1}).fetchall():
            postings[column][word] = (int.from_bytes(packed, "big") if packed is not None
                                      else tuple(numbers))
        by_kind: dict[str, list[int]] = {}
        for number, row in enumerate(rows):
            by_kind.setdefault(row[2], []).append(number)
        kinds = {kind: _pack(size, numbers) for kind, numbers in by_kind.items()}
    by_name = sorted(range(size), key=names.__getitem__)
    loaded = _Loaded(
        size=size, refs=refs, names=names, numbers={ref: n for n, ref in enumerate(refs)},
        sorted_names=[names[n] for n in by_name], sorted_numbers=by_name,
        vocabulary=sorted(postings[_ANYWHERE]), postings=postings, kinds=kinds)
    return _WordIndex(loaded, alive=(1 << size) - 1)


def _entries(con: duckdb.DuckDBPyConnection, refs: list[str]) -> list[_Entry]:
    """Overlay entries for the entities among `refs` that exist."""
    if not refs:
        return []
    marks = ", ".join("?" * len(refs))
    rows = con.execute(f"SELECT name_words, title_words, search_text, {_SHOWN} "
                       f"FROM entities WHERE ref IN ({marks})", refs).fetchall()
    entries = []
    for name_words, title_words, text, *shown in rows:
        in_name = frozenset(name_words.split())
        entries.append(_Entry(
            ref=shown[-1], name=shown[2], kind=shown[0].lower(), shown=tuple(shown),
            name_words=in_name, named_words=in_name | frozenset(title_words.split()),
            all_words=frozenset(text.split())))
    return entries


def carry_search_forward(con: duckdb.DuckDBPyConnection,
                         old_revision: str | None, new_revision: str, refs: set[str]) -> None:
    """After an update in this process: move the cached word index of `old_revision` to
    `new_revision`, the entities `refs` (those of the changed files) re-read from `con`."""
    def advance(index: _WordIndex) -> _WordIndex | None:
        return index.advance(_entries(con, sorted(refs)), refs)

    carry_forward("search", old_revision, new_revision, advance)


def warm(con: duckdb.DuckDBPyConnection) -> None:
    """Load the word index of this revision now, so the first search does not wait for it."""
    cached(con, "search", _load)


def search(con: duckdb.DuckDBPyConnection, query: str, kind: str | None = None,
           limit: int = 20) -> list[dict[str, Any]]:
    """Entities matching `query`, best first, as dicts of `_COLUMNS` plus `score`.

    An empty query (no letters or digits) finds nothing. `kind` is case-insensitive.
    """
    tokens = list(dict.fromkeys(words(query)))
    if not tokens or limit < 1:
        return []
    index: _WordIndex = cached(con, "search", _load)
    ranked = index.ranked(tokens, kind.lower() if kind else None, min(limit, MAX_LIMIT))
    missing = [ref for _, ref, shown in ranked if shown is None]
    if missing:
        memo = index.loaded.shown
        for row in con.execute(f"SELECT {_SHOWN} FROM entities "
                               f"WHERE ref IN ({', '.join('?' * len(missing))})",
                               missing).fetchall():
            memo[row[-1]] = row
        ranked = [(score, ref, shown or memo.get(ref)) for score, ref, shown in ranked]
    names = (*_COLUMNS, "score")
    return [dict(zip(names, (*shown, score), strict=True))
            for score, _, shown in ranked if shown is not None]
