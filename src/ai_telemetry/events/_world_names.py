# ruff: noqa: PTH100, PTH103, PTH105, PTH108, PTH110, PTH111, PTH112, PTH116, PTH118, PTH120, PTH123, PTH208
# (plain os calls on strings: no pathlib objects for a loader that runs once per process)
"""Multilingual name lists for the privacy guard's name detector (loaded lazily, on first use).

Read from data that installed packages ship, never from the network:

- ``mimesis`` (``mimesis/datasets/<locale>/person.json``, 50 locales: Latin with diacritics,
  Cyrillic, Greek, Arabic, CJK, ...): first names, surnames (both genders) and the locale's
  titles (``Herr``, ``Κύριος``, ``السيد``, ``先生``, ``さん``, ``씨``);
- ``hebrew-names`` (``dist.*.first`` / ``dist.*.last``, UTF-16): Hebrew first and last names;
- ``faker`` (``faker.providers.person.hi_IN`` and ``mr_IN``): Devanagari first and last names;
  and its English lorem word list, as common words;
- ``name-variants``: the most frequent names of Chinese, Japanese, Korean, Arabic, Hindi, Greek,
  Hebrew, Persian and Turkish, keyed in their own script;
- optionally ``arabic-name-romanizer`` (the ``names-arabic`` extra; it brings onnxruntime, so it
  is not a default dependency): about 6,000 Arabic given names and surnames from Wikidata and
  DziriNames, read from its SQLite file;
- names-dataset's native-script names of 105 countries, ranked (`_names_dataset`), less every
  stopword (``stopwordsiso``) and common word: by default from the selection this package ships
  (`DATA_FILE`, 280 KB, made by ``bench/world_names_data.py``); with the ``names-world`` extra
  installed (a 56 MB wheel; reading its pickles takes ~15 s and ~1 GB once per machine), from
  names-dataset itself, the same selection.

The JSON and text files are read directly, without importing mimesis or hebrew-names. Building the
sets takes about 0.6 s, so the result is kept in a ``marshal`` file in the user's cache directory
(``$XDG_CACHE_HOME/ai-telemetry`` or ``~/.cache/ai-telemetry``), keyed by `NAMES_VERSION` and the
source files' modification times, split by script (`SCRIPTS`): a process unmarshals only the
scripts of the values it checks (Latin, about 60% of the data, for ASCII text). When the cache
cannot be written the sets are built in memory. A source package that is missing contributes
nothing (the detector then falls back to the built-in English lists and the honorifics).

The held-out evaluation set (``tests/data/privacy/heldout_multilingual.jsonl``) comes from Faker
locales this module never reads, so its recall measures coverage, not memorisation.
"""

from __future__ import annotations

import contextlib
import os

TYPE_CHECKING = False  # loaded by the hook's privacy check: keep `typing` out
if TYPE_CHECKING:
    from typing import Final

NAMES_VERSION: Final = "11"
"""Bumped when the way the lists are built changes (invalidates the cache file)."""

_FAKER_LOCALES: Final = ("hi_IN", "mr_IN")

NameLists = tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str], frozenset[str]]
"""First names, surnames, titles, common words (mimesis' per-locale word lists and sample
texts, so a capitalised noun next to a first name is not taken for a surname), and common
English words (mimesis ``en`` and Faker's English lorem list): lower case."""


def _package_dir(name: str) -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(next(iter(spec.submodule_search_locations)))


def _flatten(value: object, out: set[str]) -> None:
    if isinstance(value, str):
        word = value.strip().lower()
        if word:
            out.add(word)
    elif isinstance(value, dict):
        for item in value.values():
            _flatten(item, out)
    elif isinstance(value, list):
        for item in value:
            _flatten(item, out)


def _sources() -> list[str]:
    found = []
    for name in (
        "mimesis",
        "hebrew_names",
        "faker",
        "name_variants",
        "arabic_name_romanizer",
        "names_dataset",
        "stopwordsiso",
    ):
        path = _package_dir(name)
        if path is not None:
            found.append(path)
    if os.path.exists(DATA_FILE):
        found.append(DATA_FILE)
    return found


def _cache_key(sources: list[str]) -> str:
    import hashlib

    parts = [NAMES_VERSION]
    for path in sources:
        try:
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
        except OSError:
            parts.append(path)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def build() -> NameLists:
    """Read every source now (no cache)."""
    import json

    first: set[str] = set()
    last: set[str] = set()
    titles: set[str] = set()
    common: set[str] = set()
    english: set[str] = set()
    mimesis = _package_dir("mimesis")
    if mimesis is not None:
        root = os.path.join(mimesis, "datasets")
        for locale in sorted(os.listdir(root)) if os.path.isdir(root) else ():
            path = os.path.join(root, locale, "person.json")
            try:
                with open(path, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                _flatten(data.get("names"), first)
                _flatten(data.get("surnames"), last)
                _flatten(data.get("last_names"), last)
                title = data.get("title")
                if isinstance(title, dict):
                    for per_gender in title.values():
                        if isinstance(per_gender, dict):
                            _flatten(per_gender.get("typical"), titles)
            try:
                with open(os.path.join(root, locale, "text.json"), encoding="utf-8") as fh:
                    text = json.load(fh)
            except (OSError, ValueError):
                continue
            if isinstance(text, dict):
                _flatten(text.get("words"), common)
                if locale == "en":
                    _flatten(text.get("words"), english)
                # Words of the sample texts too, except capitalised ones (names among them).
                for sentence in text.get("text") or ():
                    if isinstance(sentence, str):
                        for raw in sentence.split():
                            w = raw.strip(".,;:!?\"'()«»")
                            if w and not w[0].isupper():
                                common.add(w.lower())
    hebrew = _package_dir("hebrew_names")
    if hebrew is not None:
        for entry in sorted(os.listdir(hebrew)):
            if not entry.startswith("dist.") or not entry.endswith((".first", ".last")):
                continue
            target = first if entry.endswith(".first") else last
            try:
                with open(os.path.join(hebrew, entry), encoding="utf-16") as fh:
                    for line in fh:
                        word = line.split("\t", 1)[0].strip()
                        if word:
                            target.add(word.lower())
            except (OSError, UnicodeError):
                continue
    if _package_dir("faker") is not None:
        import importlib

        # Faker's English word list (about 1,000 everyday words): "Max Retries", "Sentry
        # Alert" are no names. (No other locale's lorem is read: the legit corpus uses those.)
        try:
            lorem = importlib.import_module("faker.providers.lorem.en_US")
            _flatten(list(getattr(lorem.Provider, "word_list", ())), english)
        except ImportError:
            pass

        for locale in _FAKER_LOCALES:
            try:
                module = importlib.import_module(f"faker.providers.person.{locale}")
            except ImportError:
                continue
            provider = module.Provider
            for attr in ("first_names", "first_names_male", "first_names_female"):
                _flatten(list(getattr(provider, attr, ())), first)
            _flatten(list(getattr(provider, "last_names", ())), last)
    _name_variants(first, last)
    _arabic_names(first, last)
    titles = {t.rstrip(".") for t in titles if t.rstrip(".")}
    common |= english
    common |= _stopwords()
    # names-dataset's lists hold everyday words (Facebook users type them as names): none of
    # its names that is a common word or a stopword of any language is taken.
    nd_first: set[str] = set()
    nd_last: set[str] = set()
    _names_dataset(nd_first, nd_last)
    if not nd_first and not nd_last:
        _shipped_names(nd_first, nd_last)  # the same selection, extracted ahead (`DATA_FILE`)
    first |= nd_first - common
    last |= nd_last - common
    common.discard("")
    return (
        frozenset(first),
        frozenset(last),
        frozenset(titles),
        frozenset(common),
        frozenset(english),
    )


# name-variants' tables, keyed by the name in its own script: given names, surnames, or both
# (the Arabic, Indian, Greek, Hebrew, Persian, Turkish tables mix them).
_NV_TABLES: Final = (
    ("chinese_given_names", "CHINESE_GIVEN_NAME_VARIANTS", "first"),
    ("chinese_surnames", "CHINESE_SURNAME_VARIANTS", "last"),
    ("japanese_given_names", "JAPANESE_GIVEN_NAME_VARIANTS", "first"),
    ("japanese_surnames", "JAPANESE_SURNAME_VARIANTS", "last"),
    ("korean_given_names", "KOREAN_GIVEN_NAME_VARIANTS", "first"),
    ("korean_surnames", "KOREAN_SURNAME_VARIANTS", "last"),
    ("russian_surnames", "RUSSIAN_SURNAME_VARIANTS", "last"),
    ("arabic_names", "ARABIC_NAME_VARIANTS", "both"),
    ("indian_names_hindi", "INDIAN_NAMES_HINDI", "both"),
    ("greek_names", "GREEK_NAME_VARIANTS", "both"),
    ("hebrew_names", "HEBREW_NAME_VARIANTS", "both"),
    ("persian_names", "PERSIAN_NAME_VARIANTS", "both"),
    ("turkish_names", "TURKISH_NAME_VARIANTS", "both"),
)


def _name_variants(first: set[str], last: set[str]) -> None:
    if _package_dir("name_variants") is None:
        return
    import importlib

    for module_name, table_name, role in _NV_TABLES:
        try:
            module = importlib.import_module(f"name_variants.{module_name}")
        except ImportError:
            continue
        table = getattr(module, table_name, None)
        if not isinstance(table, dict):
            continue
        for key in table:
            if isinstance(key, str) and key.strip():
                word = key.strip().lower()
                if role in ("first", "both"):
                    first.add(word)
                if role in ("last", "both"):
                    last.add(word)


# Countries whose names in Arabic script are Persian or Urdu: many are everyday words there, and
# taking them costs localized text more than it finds Arabic names.
_ARABIC_SKIP_COUNTRIES: Final = ("IR", "AF", "PK", "IN", "TJ")


def _arabic_names(first: set[str], last: set[str]) -> None:
    """Optional (the ``names-arabic`` extra): the Wikidata and DziriNames units that
    ``arabic-name-romanizer`` ships in ``resources/names.sqlite3``, seen at least twice."""
    root = _package_dir("arabic_name_romanizer")
    if root is None:
        return
    import sqlite3

    path = os.path.join(root, "resources", "names.sqlite3")
    if not os.path.exists(path):
        return
    skip = ", ".join(f"'{c}'" for c in _ARABIC_SKIP_COUNTRIES)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for target, roles in ((first, "'given', 'unknown'"), (last, "'surname', 'unknown'")):
                rows = con.execute(
                    f"SELECT DISTINCT arabic_key FROM units WHERE role IN ({roles}) "  # noqa: S608 - constants
                    f"AND count >= 2 AND country NOT IN ({skip})"
                ).fetchall()
                target.update(str(key).strip().lower() for (key,) in rows if key)
        finally:
            con.close()
    except sqlite3.Error:
        return


# names-dataset (optional, the ``names-world`` extra): the first and last names of 105
# countries' Facebook users (2021), ranked per country. Multi-word entries are left out, and so
# are names ranked below `_ND_MAX_RANK` in every country (Latin: the top 300 only, its half a
# million names are mostly everyday words somewhere; the long tail holds page names and typing
# noise); stopwords (``stopwordsiso``) and the common words are taken out of them in `build`.
_ND_SCRIPTS: Final = frozenset({"latin", "cyrillic", "greek", "arabic", "hebrew", "indic", "cjk"})
_ND_MAX_RANK: Final = {"latin": 300, "arabic": 2500, "indic": 20000}
"""Per script (default 5,000): Arabic has more noise (common words typed as names) past rank
2,500 (3,000 took ``تم حفظ التغييرات``); Devanagari, about 1,100 names, gains Indian names down
to 20,000; Latin, half a million names of which many are words, only the top 300 of each
country (1,000 took ``Azure Blob Storage``). Chosen on the development set from a grid, as were
the stopword filter and `_PROSE_WORDS` (docs/privacy.md). Changing them means regenerating
`DATA_FILE` with ``bench/world_names_data.py``."""


def _nd_entries(kind: str) -> list[tuple[str, dict[str, int]]]:
    """``(name, {country: rank})`` of names-dataset's ``first`` or ``last`` table (reading
    one table takes about 6 s and 1 GB: once per machine)."""
    root = _package_dir("names_dataset")
    if root is None:
        return []
    import gc
    import gzip
    import pickle

    path = os.path.join(root, "v3", f"{kind}_names.pkl.gz")
    try:
        with gzip.open(path, "rb") as fh:
            table = pickle.load(fh)  # noqa: S301 - the installed package's own data file
    except (OSError, EOFError, pickle.UnpicklingError, ValueError):
        return []
    out: list[tuple[str, dict[str, int]]] = []
    if isinstance(table, dict):
        for word, info in table.items():
            if not isinstance(word, str) or not word or script_of(word[0]) not in _ND_SCRIPTS:
                continue
            rank = info.get("rank") if isinstance(info, dict) else None
            if isinstance(rank, dict) and rank:
                out.append((word, rank))
    del table
    gc.collect()
    return out


def _names_dataset(first: set[str], last: set[str]) -> None:
    """Optional (the ``names-world`` extra): names-dataset's names that rank within
    `_ND_MAX_RANK` in some country (Arabic script: not counting Persian and Urdu countries,
    whose names are everyday words there, as in `_arabic_names`)."""
    for kind, target in (("first", first), ("last", last)):
        for word, ranks in _nd_entries(kind):
            group = script_of(word[0])
            if group == "indic" and not "\u0900" <= word[0] <= "\u097f":
                continue  # Devanagari only: Bengali, Tamil, ... are not measured (and cost prose)
            counted = [
                r for c, r in ranks.items() if group != "arabic" or c not in _ARABIC_SKIP_COUNTRIES
            ]
            if " " in word or not counted or min(counted) > _ND_MAX_RANK.get(group, 5000):
                continue
            target.add(word.strip().lower())


DATA_FILE: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "world_names.txt.gz")
"""names-dataset's selection (`_names_dataset`, less stopwords and common words), extracted
ahead by ``bench/world_names_data.py`` and shipped in the package, so the default install has it
without the 56 MB wheel or the 15 s, 1 GB read: ``# comment`` lines, then ``[first]`` and
``[last]`` sections of one lower-case word per line (gzip, UTF-8)."""


def _shipped_names(first: set[str], last: set[str]) -> None:
    import gzip

    target: set[str] | None = None
    try:
        with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
            for line in fh:
                word = line.strip()
                if not word or word.startswith("#"):
                    continue
                if word in ("[first]", "[last]"):
                    target = first if word == "[first]" else last
                elif target is not None:
                    target.add(word)
    except (OSError, EOFError, UnicodeError):
        return


def _stopwords() -> set[str]:
    """The stopwords of every language of ``stopwordsiso`` (Stopwords ISO), read from its JSON
    file (optional, with the ``names-world`` extra): function words are no names."""
    import json

    root = _package_dir("stopwordsiso")
    if root is None:
        return set()
    try:
        with open(os.path.join(root, "stopwords-iso.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return set()
    out: set[str] = set()
    _flatten(data, out)
    return out


def cache_dir() -> str:
    """Where the built lists are kept between processes."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ai-telemetry")


SCRIPTS: Final = ("latin", "cyrillic", "greek", "arabic", "hebrew", "indic", "cjk", "other")
"""The groups the lists are split into, so a process loads only the scripts it meets."""


def script_of(c: str) -> str:
    """The group of `SCRIPTS` a word starting with ``c`` belongs to."""
    o = ord(c)
    if o < 0x250 or 0x1E00 <= o < 0x1F00:
        return "latin"
    if 0x370 <= o < 0x400 or 0x1F00 <= o < 0x2000:
        return "greek"
    if 0x400 <= o < 0x530:
        return "cyrillic"
    if 0x590 <= o < 0x600 or 0xFB1D <= o < 0xFB50:
        return "hebrew"
    if 0x600 <= o < 0x700 or 0x750 <= o < 0x780 or 0xFB50 <= o < 0xFF00:
        return "arabic"
    if 0x900 <= o < 0xE00:
        return "indic"
    if 0x3040 <= o < 0xA000 or 0xAC00 <= o < 0xD7B0 or 0x1100 <= o < 0x1200:
        return "cjk"
    return "other"


def split(lists: NameLists) -> dict[str, NameLists]:
    """``lists`` cut into one `NameLists` per script (by each word's first character)."""
    parts: dict[str, list[set[str]]] = {g: [set(), set(), set(), set(), set()] for g in SCRIPTS}
    for index, words in enumerate(lists):
        for word in words:
            parts[script_of(word[0])][index].add(word)
    return {
        g: (frozenset(a), frozenset(b), frozenset(c), frozenset(d), frozenset(e))
        for g, (a, b, c, d, e) in parts.items()
    }


_EMPTY: Final[NameLists] = (frozenset(), frozenset(), frozenset(), frozenset(), frozenset())
_blobs: dict[str, bytes] | None = None


def _read_blobs() -> dict[str, bytes]:
    """Each script's lists as marshal bytes, from the cache file (built and saved when it is
    missing or stale). Unmarshalling a script's bytes is left to `load`."""
    import marshal

    global _blobs  # noqa: PLW0603 - one read of the cache file per process
    if _blobs is not None:
        return _blobs
    path = os.path.join(cache_dir(), f"names-{_cache_key(_sources())}.marshal")
    try:
        with open(path, "rb") as fh:
            data = marshal.load(fh)  # noqa: S302 - our own cache file, in the user's directory
        if isinstance(data, dict) and all(
            isinstance(k, str) and isinstance(v, bytes) for k, v in data.items()
        ):
            _blobs = data
            return data
    except (OSError, ValueError, EOFError, TypeError):
        pass
    blobs = {g: marshal.dumps(part) for g, part in split(build()).items()}
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump(blobs, fh)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _blobs = blobs
    return blobs


def load(script: str) -> NameLists:
    """The lists of one script (a key of `SCRIPTS`), from the cache file when it matches the
    installed sources, else built (and saved atomically for the next process)."""
    import marshal

    blob = _read_blobs().get(script)
    if blob is None:
        return _EMPTY
    try:
        data = marshal.loads(blob)  # noqa: S302 - our own cache file, in the user's directory
    except (ValueError, EOFError, TypeError):
        return _EMPTY
    if isinstance(data, tuple) and len(data) == 5 and all(isinstance(p, frozenset) for p in data):
        return data[0], data[1], data[2], data[3], data[4]
    return _EMPTY
