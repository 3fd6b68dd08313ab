"""WordNet offline, read by nltk, for the synonym perturbation.

Debian's `wordnet-base` puts the Princeton WordNet 3.0 database in /usr/share/wordnet (a Space
installs it from packages.txt). nltk's reader wants the files in `<dir>/corpora/wordnet`
plus a `lexnames` file, which Debian drops. Its 45 lines (number, lexicographer file name,
syntactic category) are WordNet 3.0's fixed table of lexicographer files, the one the `lexnames(5WN)`
man page prints; the project carries it (LEXNAMES below, derived once from Debian's man page and
checked against it by tests/unit/test_synonyms.py where the page is installed), so no man page is read
at run time (a Space's image may drop /usr/share/man). The folder is built once under the cache folder (copies of the
database files, built in a temporary folder and renamed into place); with
NLTK_DATA=<cache>/nltk_data plain `nltk.corpus.wordnet` reads it too. Where the cache folder is
full or read-only, the copy is built in the system's temporary folder instead (and the page says
the cache is not writable); where neither can be written, synonym variants are unavailable with
that reason, and are tried again on the next request.
"""
from __future__ import annotations

import gzip
import importlib.util
import os
import re
import shutil
import tempfile
import threading
import warnings
from functools import lru_cache
from pathlib import Path

from demo import diskstate
from demo.settings import cache_dir

DATABASE = ["data.noun", "data.verb", "data.adj", "data.adv", "index.noun", "index.verb", "index.adj",
            "index.adv", "noun.exc", "verb.exc", "adj.exc", "adv.exc"]
OPTIONAL = ["cntlist.rev", "index.sense"]
CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")  # only the tests read it, to check LEXNAMES
# WordNet 3.0's lexicographer files: number, name, syntactic category (1 noun, 2 verb, 3 adj, 4 adv),
# the `lexnames` file as nltk reads it (its index must equal the line number).
LEXNAMES = """\
00 adj.all 3
01 adj.pert 3
02 adv.all 4
03 noun.Tops 1
04 noun.act 1
05 noun.animal 1
06 noun.artifact 1
07 noun.attribute 1
08 noun.body 1
09 noun.cognition 1
10 noun.communication 1
11 noun.event 1
12 noun.feeling 1
13 noun.food 1
14 noun.group 1
15 noun.location 1
16 noun.motive 1
17 noun.object 1
18 noun.person 1
19 noun.phenomenon 1
20 noun.plant 1
21 noun.possession 1
22 noun.process 1
23 noun.quantity 1
24 noun.relation 1
25 noun.shape 1
26 noun.state 1
27 noun.substance 1
28 noun.time 1
29 verb.body 2
30 verb.change 2
31 verb.cognition 2
32 verb.communication 2
33 verb.competition 2
34 verb.consumption 2
35 verb.contact 2
36 verb.creation 2
37 verb.emotion 2
38 verb.motion 2
39 verb.perception 2
40 verb.possession 2
41 verb.social 2
42 verb.stative 2
43 verb.weather 2
44 adj.ppl 3
""".replace(" ", "\t")
INSTALL_HINT = "install Debian's wordnet-base (apt-get install wordnet-base)"


class WordNetUnavailable(Exception):
    pass


def source_dir() -> Path:
    """Where the database is: $INSTRUCTIR_EXPLORER_WORDNET, else Debian's /usr/share/wordnet."""
    return Path(os.environ.get("INSTRUCTIR_EXPLORER_WORDNET", "/usr/share/wordnet"))


def lexnames_from_man(page: str) -> str:
    """The `lexnames` file from the man page's table: `NN\\tname\\tcategory` per line."""
    rows = re.findall(r"^(\d\d)\t(\w+\.\w+)\s*\t", page, re.M)
    if len(rows) != 45:
        raise WordNetUnavailable(f"the lexnames man page lists {len(rows)} lexicographer files, expected 45")
    return "".join(f"{num}\t{name}\t{CATEGORY[name.split('.')[0]]}\n" for num, name in rows)


def man_page_text(path: Path = LEXNAMES_MAN) -> str:
    """The text of Debian's lexnames(5WN) man page (gzip), to check LEXNAMES against."""
    return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


def nltk_data_dir(src: Path | None = None, target: Path | None = None) -> Path:
    """<target>/corpora/wordnet built from `src` (once); returns <target>, the NLTK_DATA folder.
    <target> defaults to <cache>/nltk_data, and to a temporary folder where the cache cannot be
    written; WordNetUnavailable (with the reason) where no folder can."""
    src = src or source_dir()
    if target is not None:
        return _build(src, target)
    try:
        built = _build(src, cache_dir() / "nltk_data")
        diskstate.clear("wordnet")
        return built
    except OSError as e:
        diskstate.report("wordnet", e)
        try:
            return _build(src, Path(tempfile.gettempdir()) / "instructir-explorer-nltk_data")
        except OSError as e2:
            raise WordNetUnavailable(f"no folder to put WordNet's files in: the cache is not writable "
                                     f"({e.strerror or type(e).__name__}), nor is the temporary folder "
                                     f"({e2.strerror or type(e2).__name__})") from None


def _build(src: Path, target: Path) -> Path:
    problem = _missing_files(src)
    if problem:
        raise WordNetUnavailable(problem)
    final = target / "corpora" / "wordnet"
    if (final / "lexnames").is_file() and all((final / f).is_file() for f in DATABASE):
        return target
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=final.parent))
    try:
        (work / "lexnames").write_text(LEXNAMES, encoding="utf-8")
        for name in DATABASE + [f for f in OPTIONAL if (src / f).is_file()]:
            # copies (about 30 MB): nltk refuses symlinks and hard links that lead out of its data folder
            shutil.copyfile(src / name, work / name)
        if not (work / "index.sense").exists():  # Debian drops it too; nltk lists it, only sense-key lookups read it
            (work / "index.sense").write_bytes(b"")
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def _reader(src: str):
    """One reader per database (loading it takes seconds), whichever cache folder holds the copy."""
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    data_dir = str(nltk_data_dir(Path(src)))
    if data_dir not in nltk.data.path:  # nltk reads corpora only under its data path (as NLTK_DATA sets it)
        nltk.data.path.append(data_dir)
    try:
        with warnings.catch_warnings():  # "multilingual functions are not available": we use English only
            warnings.simplefilter("ignore", UserWarning)
            return WordNetCorpusReader(str(Path(data_dir) / "corpora" / "wordnet"), None)
    except (OSError, LookupError, ValueError) as e:
        raise WordNetUnavailable(f"nltk cannot read WordNet in {data_dir}: {e}") from None


def wordnet():
    """nltk's WordNet reader over the local database; raises WordNetUnavailable with the reason."""
    reason = unavailable_reason()
    if reason:
        raise WordNetUnavailable(reason)
    with _load_lock:  # the warm-up thread and a request must not both load it
        return _reader(str(source_dir()))


def unavailable_reason() -> str | None:
    """Why WordNet cannot be used here, or None. Cheap: looks for nltk and the files, loads nothing."""
    if importlib.util.find_spec("nltk") is None:
        return "needs the nltk package (pip install nltk)"
    return _missing_files(source_dir())


def _missing_files(src: Path) -> str | None:
    missing = [f for f in DATABASE if not (src / f).is_file()]
    return f"WordNet not found in {src} (missing {missing[0]}); {INSTALL_HINT}" if missing else None


_warming: list = []


def warm_up() -> None:
    """Load WordNet in a background thread (it takes seconds), so the first instance view need not
    wait for it; once per process, and silent where WordNet is missing."""
    if _warming or unavailable_reason():
        return

    def load():
        try:
            wordnet()
        except WordNetUnavailable:
            pass
    _warming.append(threading.Thread(target=load, name="wordnet-warm-up", daemon=True))
    _warming[0].start()
