"""Extract names-dataset's selection into the file the package ships (``world_names.txt.gz``).

The privacy guard's name lists take names-dataset's first and last names by script and rank
(`ai_telemetry.events._world_names._names_dataset`), less every stopword and common word. Reading
names-dataset costs a 56 MB wheel and ~15 s and ~1 GB once per machine, so the selection is made
here, once, and committed; a default install reads the small file instead. Run after changing
the selection (and bump ``NAMES_VERSION``)::

    .venv/bin/pip install names-dataset stopwordsiso     # or PYTHONPATH=<dir with both>
    .venv/bin/python bench/world_names_data.py
"""

from __future__ import annotations

import gzip
import importlib.util
import sys

from ai_telemetry.events import _world_names as w


def main() -> None:
    if importlib.util.find_spec("names_dataset") is None:
        sys.exit("world_names_data: names-dataset is not installed (pip install names-dataset)")
    if importlib.util.find_spec("stopwordsiso") is None:
        sys.exit("world_names_data: stopwordsiso is not installed (pip install stopwordsiso)")
    _, _, _, common, _ = w.build()  # mimesis and Faker common words, English, stopwords
    first: set[str] = set()
    last: set[str] = set()
    w._names_dataset(first, last)  # the one selection, shared with the loader
    first -= common
    last -= common
    # gzip without a timestamp: the same selection gives the same bytes.
    with gzip.GzipFile(w.DATA_FILE, "wb", mtime=0) as raw:
        lines = [
            "# names-dataset (MIT, philipperemy/name-dataset) first and last names, selected by",
            "# script and rank as in _world_names._names_dataset, less stopwordsiso's stopwords",
            "# and the common words; made by bench/world_names_data.py",
            "[first]",
            *sorted(first),
            "[last]",
            *sorted(last),
        ]
        raw.write(("\n".join(lines) + "\n").encode())
    print(f"{w.DATA_FILE}: {len(first)} first names, {len(last)} surnames")


if __name__ == "__main__":
    main()
