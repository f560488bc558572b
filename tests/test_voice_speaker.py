"""The audio speaker and its fallbacks, with the real phrase cache and a fake device."""

from __future__ import annotations

import io
import re
from array import array
from pathlib import Path

import pytest
from conftest import SMALL_PIR, write_routine

from coach.core.messages import Say
from coach.core.script import compile_script
from coach.errors import DeviceError, LocaleError
from coach.run.clock import MonotonicClock
from coach.spec.locale import CONSOLE_HINTS, _parse, available_languages, load_locale, locales_dir
from coach.spec.routine import load_routine
from coach.spec.yamlsrc import read_yaml
from coach.voice.audio import AudioSpeaker, build_speaker
from coach.voice.fit import slot_warnings
from coach.voice.speaker import ConsoleSpeaker, console_hints
from coach.voice.tts import PhraseCache, VoiceChoice

EN = VoiceChoice("en")


class FakeOutput:
    rate = 22050

    def __init__(self) -> None:
        self.written = array("h")

    def write(self, samples: array[int]) -> None:
        self.written.extend(samples)
        import time

        time.sleep(len(samples) / self.rate)

    def delay_seconds(self) -> float:
        return 0.05

    def close(self) -> None:
        pass


def test_speaker_schedules_the_clip_for_its_due_time(tmp_path: Path) -> None:
    clock = MonotonicClock()
    output = FakeOutput()
    built = build_speaker(EN, clock, ["Two."], None, io.StringIO(), open_output=lambda: output, cache=PhraseCache(EN, tmp_path))
    assert built.notice is None and isinstance(built.speaker, AudioSpeaker)
    speaker = built.speaker
    now = clock.now()
    # Due 0.3 s ahead: six times the device's 50 ms, so even a loaded machine places it exactly.
    utterance = speaker.speak(Say("Two.", now + 0.3, "contract", "count"), now)
    assert utterance.started == now + 0.3
    assert 0.1 < utterance.seconds < 1.5
    speaker.close()
    assert max(output.written) > 1000  # the clip was played


def test_speaker_falls_back_to_text_when_the_device_cannot_open(tmp_path: Path) -> None:
    def refuse() -> FakeOutput:
        raise DeviceError("audio: cannot open output device 'usb-speaker': No such device")

    console = io.StringIO()
    built = build_speaker(EN, MonotonicClock(), ["Two."], None, console, open_output=refuse, cache=PhraseCache(EN, tmp_path))
    assert isinstance(built.speaker, ConsoleSpeaker)
    assert built.notice == "audio: cannot open output device 'usb-speaker': No such device; the session is shown as text instead."
    built.speaker.speak(Say("Two.", 1.0, "contract", "count"), 1.0)
    assert "Two." in console.getvalue()


def test_speaker_falls_back_to_text_when_the_speech_engine_fails(tmp_path: Path) -> None:
    class NoEngine:
        def save_to_file(self, text: str, path: str) -> None:
            raise DeviceError("voice: the speech engine did not start (libespeak-ng.so.1 missing); install espeak-ng")

        def runAndWait(self) -> None:  # noqa: N802
            pass

    built = build_speaker(
        EN, MonotonicClock(), [], None, io.StringIO(), open_output=FakeOutput, cache=PhraseCache(EN, tmp_path, NoEngine())
    )
    assert isinstance(built.speaker, ConsoleSpeaker)
    assert built.notice is not None and built.notice.startswith("voice: the speech engine did not start")


def test_speaker_shows_text_for_a_phrase_that_failed_to_render(tmp_path: Path) -> None:
    clock = MonotonicClock()
    console = io.StringIO()
    cache = PhraseCache(EN, tmp_path)
    built = build_speaker(EN, clock, ["Two."], None, console, echo=False, open_output=FakeOutput, cache=cache)
    cache.failed["Three."] = "espeak crashed"
    utterance = built.speaker.speak(Say("Three.", clock.now() + 0.3, "contract", "count"), clock.now())
    assert utterance.seconds == 0.0
    built.speaker.close()


def test_fit_warns_where_a_phrase_is_longer_than_its_slot(tmp_path: Path) -> None:
    body = SMALL_PIR.replace(
        "    relax_seconds: 3\n", "    relax_seconds: 1.5\n    relax_cue: Relax completely and breathe out very slowly\n"
    )
    routine = load_routine(write_routine(tmp_path, body))
    script = compile_script(routine, load_locale("en"))
    cache = PhraseCache(EN, tmp_path / "cache")

    def seconds_of(text: str) -> float | None:
        clip = cache.get(text)
        return clip.seconds if clip else None

    warnings = slot_warnings(script, seconds_of)
    relax = [w for w in warnings if "Relax completely" in w]
    assert len(relax) == 1, (warnings, cache.failed)  # what the engine said, if it could not render the phrase
    assert relax[0].startswith(
        f"{routine.source}:{routine.exercises[0].line}: warning: 'And ease. Relax completely and breathe out very slowly.' needs "
    )
    assert relax[0].endswith("but its slot is 1.5 s (ql, relax, repetition 1)")
    assert slot_warnings(script, lambda text: 0.5) == []


def test_speaker_in_a_kiosk_waits_for_a_device_that_appears_later(tmp_path: Path) -> None:
    import coach.voice.player as player_module

    attempts: list[int] = []
    output = FakeOutput()

    def late_device() -> FakeOutput:
        attempts.append(1)
        if len(attempts) < 3:
            raise DeviceError("audio: cannot open output device 'default': No such file or directory")
        return output

    saved = player_module.RETRY_SECONDS
    player_module.RETRY_SECONDS = (0.01,)
    console = io.StringIO()
    try:
        clock = MonotonicClock()
        built = build_speaker(
            EN, clock, ["Two."], None, console, open_output=late_device, cache=PhraseCache(EN, tmp_path), keep_trying=True
        )
        assert isinstance(built.speaker, AudioSpeaker)
        missing = "audio: cannot open output device 'default': No such file or directory"
        assert built.notice == f"{missing}; showing text until the audio device appears."
        assert built.speaker.player.ready.wait(5)
        now = clock.now()
        utterance = built.speaker.speak(Say("Two.", now + 0.3, "contract", "count"), now)
        assert utterance.seconds > 0  # audio again
        built.speaker.close()
    finally:
        player_module.RETRY_SECONDS = saved
    assert len(attempts) == 3
    assert console.getvalue().count("the output device is back") == 1
    assert "showing text until the audio device is back" not in console.getvalue()  # said once, at start


@pytest.mark.parametrize(
    ("language", "paused"),
    [
        ("en", "paused: type r (or Enter) to resume, n for next, s to stop"),
        ("ko", "일시 정지: 계속하려면 r (또는 Enter), 다음은 n, 중지는 s"),
    ],
)
def test_console_speaker_says_what_to_type_in_the_session_language(language: str, paused: str) -> None:
    out = io.StringIO()
    speaker = ConsoleSpeaker(out, console_hints(language))
    speaker.show_state("exercise", 0.0)  # nothing to type here: no hint
    speaker.show_state("paused", 1.0)
    assert out.getvalue() == f"          [{paused}]\n"


def test_console_speaker_hints_are_english_without_a_locale() -> None:
    out = io.StringIO()
    ConsoleSpeaker(out).show_state("confirm", 0.0)
    assert out.getvalue() == "          [type y to confirm, or the number again]\n"
    assert console_hints("xx") is None  # an unknown language falls back to English too


def test_locale_every_language_has_a_console_hint_for_every_state() -> None:
    for language in available_languages():
        hints = load_locale(language).console
        assert hints is not None and set(hints) == set(CONSOLE_HINTS) and all(hints.values()), language


def test_locale_console_hints_missing_a_state_name_file_and_line(tmp_path: Path) -> None:
    english = (locales_dir() / "en.yaml").read_text(encoding="utf-8")
    start = english.index("\nconsole:")
    bad = tmp_path / "xx.yaml"
    bad.write_text(english[:start] + '\nconsole:\n  paused: "p"\n', encoding="utf-8")
    line = english[:start].count("\n") + 2
    with pytest.raises(LocaleError, match=rf"^{re.escape(str(bad))}:{line}: 'console' must give a hint for each of paused, "):
        _parse(read_yaml(bad), "xx")
