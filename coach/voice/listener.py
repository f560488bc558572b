"""The voice input: microphone -> :class:`~coach.voice.hearing.Hearing` -> ``Input("heard", ...)``.

:class:`VoskListener` is both an :class:`~coach.run.ports.InputSource` (started with the runner's
inbox) and a :class:`~coach.run.ports.Listener` (told when the coach speaks, and what the session
expects). Two threads:

- ``microphone`` does nothing but read the audio source into a bounded queue (2 s), so capture
  never waits on recognition; if recognition falls behind, the oldest audio is dropped and
  counted rather than the sound card overrunning. A microphone that is missing or unplugged is
  reported in one line; the thread retries with back-off (1, 2, 4 ... 30 s) and says when the
  microphone is back. The session goes on with buttons and keyboard meanwhile.
- ``voice`` loads the model (a second or more; the session starts meanwhile), reports the locale
  words the model lacks, then feeds each chunk through ``Hearing`` and puts every utterance with
  a confidently heard locale word into the inbox: the command or rating the one word parser made
  of it (``Hearing`` parsed it once, for its endpoints), with the words kept, or ``unrecognised``.

Time: audio is stamped on the capture clock (``now``, ``time.monotonic``); an utterance goes into
the inbox stamped with the session time at which its last word ended (see :meth:`VoskListener.at`).
"""

from __future__ import annotations

import importlib.util
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from coach.errors import CoachError
from coach.run.clock import Clock
from coach.run.inputs import Input, session_time, understood
from coach.spec.locale import Locale
from coach.voice.capture import BYTES_PER_SECOND, ArecordSource, AudioSource, MicrophoneError
from coach.voice.grammar import build_vocabulary
from coach.voice.hearing import Heard, Hearing, HearingSettings
from coach.voice.models import ModelError, ModelLocation, check_model_dir, has_word_function, load_model, resolve_model
from coach.voice.recognizer import VoskRecognizer
from coach.voice.vad import FRAME_BYTES

RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Waits between attempts to open a missing microphone; the last one repeats (seconds)."""
QUEUE_SECONDS = 2.0
"""Audio held between capture and recognition before the oldest is dropped (seconds)."""

_END = object()
_STOP = object()


MAX_RECOGNISER_FAILURES = 3
"""Consecutive recogniser failures after which voice input stays off (each failure restarts it)."""


def report_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class VoskListener:
    """Voice commands and ratings from a microphone (see the module docstring)."""

    def __init__(
        self,
        load: Callable[[], Hearing],
        source: Callable[[], AudioSource],
        *,
        report: Callable[[str], None] = report_line,
        now: Callable[[], float] = time.monotonic,
        retry_seconds: Sequence[float] = RETRY_SECONDS,
        on_heard: Callable[[Heard, float], None] | None = None,
    ) -> None:
        self._load = load
        self._source_factory = source
        self._report = report
        self._now = now
        self._retry = tuple(retry_seconds)
        self.on_heard = on_heard
        """Called with every utterance and the time it was delivered (for ``bench/``)."""
        self.hearing: Hearing | None = None
        self.expecting = "command"
        self.dropped_bytes = 0
        self.failed = ""
        """Why voice input is off for good (the model could not be loaded), else empty."""
        self.ready = threading.Event()
        """Set once the model is loaded and the microphone is being read (or voice input failed)."""
        self._inbox: queue.Queue[Input] | None = None
        self._clock: Clock | None = None
        self._audio: queue.Queue[Any] = queue.Queue(maxsize=max(4, int(QUEUE_SECONDS * BYTES_PER_SECOND / FRAME_BYTES)))
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._source: AudioSource | None = None
        self._threads: list[threading.Thread] = []
        self._early_gates: list[tuple[float, float]] = []

    # --- InputSource --------------------------------------------------------------------------

    def start(self, inbox: queue.Queue[Input], clock: Clock | None = None) -> None:
        """Load the model and listen, putting what is heard into ``inbox``, stamped on the session ``clock``."""
        if self._threads:
            return
        self._inbox = inbox
        self._clock = clock
        worker = threading.Thread(target=self._voice, name="voice", daemon=True)
        self._threads.append(worker)
        worker.start()

    def close(self) -> None:
        """Stop capture and recognition; idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        source = self._source
        if source is not None:
            source.close()
        self._put(_STOP)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=3)

    def __enter__(self) -> VoskListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a file source to be fully heard; true when it was."""
        for thread in list(self._threads):
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    # --- Listener -----------------------------------------------------------------------------

    def expect(self, what: str) -> None:
        # Every command and an unprompted rating are valid in every state, so the grammar stays
        # whole; what is expected is kept for diagnostics.
        self.expecting = what

    def speaking(self, seconds: float, delay: float = 0.0) -> None:
        """The coach speaks for ``seconds``, starting ``delay`` seconds from now: hear nothing meanwhile.

        The runner calls this right after handing a cue to the speaker, which may start it a little
        later (its lead, or a cue still playing): ``delay`` is ``utterance.started - now``. Without
        it, the gate's tail (0.4 s) still covers the audio speaker's 0.25 s lead.
        """
        with self._lock:
            start = self._now() + max(0.0, delay)
            if self.hearing is not None:
                self.hearing.speaking(start, seconds)
            else:  # still loading the model: the cue may still be playing when capture starts
                self._early_gates.append((start, seconds))

    # --- threads ------------------------------------------------------------------------------

    def _voice(self) -> None:
        try:
            hearing = self._load()
        except CoachError as exc:
            self.failed = str(exc)
            self._report(f"coach: voice input is off: {exc}; the buttons and keyboard still work")
            self.ready.set()
            return
        with self._lock:
            self.hearing = hearing
            for start, seconds in self._early_gates:
                hearing.speaking(start, seconds)
            self._early_gates.clear()
        capture = threading.Thread(target=self._capture, name="microphone", daemon=True)
        self._threads.append(capture)
        capture.start()
        failures = 0
        while True:
            item = self._audio.get()
            if item is _STOP:
                return
            try:
                with self._lock:
                    heard = hearing.flush() if item is _END else hearing.feed(item[1], item[0])
                failures = 0
            except Exception as exc:  # the recogniser itself failed: start a fresh one, say so once
                failures += 1
                if failures == 1:
                    self._report(f"coach: voice input failed ({exc}); restarting it; the buttons and keyboard still work")
                if failures > MAX_RECOGNISER_FAILURES:
                    self.failed = f"the recogniser keeps failing ({exc})"
                    self._report(f"coach: voice input is off: {self.failed}; the buttons and keyboard still work")
                    return
                hearing = self._reload(hearing)
                continue
            self._deliver(heard)
            if item is _END:
                return

    def _reload(self, broken: Hearing) -> Hearing:
        """A fresh recogniser after a failure (the model is loaded again; the gates carry over)."""
        try:
            fresh = self._load()
        except CoachError:
            return broken
        with self._lock:
            self.hearing = fresh
        return fresh

    def _deliver(self, heard: list[Heard]) -> None:
        for utterance in heard:
            delivered = self._now()
            if self.on_heard is not None:
                self.on_heard(utterance, delivered)
            if utterance.meaningful and self._inbox is not None:
                self._inbox.put(understood(utterance.text, utterance.meaning, "voice", self.at(utterance, delivered)))

    def at(self, heard: Heard, now: float | None = None) -> float | None:
        """The session time of ``heard``: when its last word ended (``None`` without a session clock);
        ``now``: the capture clock's time now, if just read.

        Why the end of the last word: that is when the person finished saying it, the moment they
        mean ("pause" pauses there, a rating is given then). The endpointing delay after it (the
        VAD's closing quiet, the recogniser catching up, the queue) is the machine's, not theirs,
        and varies with the endpoint taken, so counting from it would shift every voice input by a
        different few hundred milliseconds.
        """
        if self._clock is None:
            return None
        return session_time(self._clock, (self._now() if now is None else now) - heard.end)

    def _capture(self) -> None:
        failures = 0
        lost = False
        while not self._closing.is_set():
            source = self._source_factory()
            self._source = source
            try:
                source.open()
                self.ready.set()
                while not self._closing.is_set():
                    chunk = source.read()
                    if not chunk:  # a file has ended: hear what is left, then stop
                        self._put(_END, drop=source.live)
                        return
                    if lost:
                        self._report("coach: the microphone is back; voice input is on")
                        lost, failures = False, 0
                    self._put((self._now(), chunk), drop=source.live)
            except MicrophoneError as exc:
                if not lost and not self._closing.is_set():
                    self._report(f"coach: voice input paused: {exc}; the buttons and keyboard still work; retrying")
                lost = True
                self.ready.set()
            finally:
                source.close()
            self._closing.wait(self._retry[min(failures, len(self._retry) - 1)])
            failures += 1

    def _put(self, item: Any, drop: bool = True) -> None:
        """Queue ``item``; when recognition has fallen 2 s behind, drop the oldest audio (or wait)."""
        if not drop:
            self._audio.put(item)
            return
        while True:
            try:
                self._audio.put_nowait(item)
                return
            except queue.Full:
                try:
                    old = self._audio.get_nowait()
                except queue.Empty:
                    continue
                if isinstance(old, tuple):
                    if not self.dropped_bytes:
                        self._report(
                            f"coach: speech recognition fell {QUEUE_SECONDS:.0f} s behind the microphone and dropped audio; "
                            "on a slow computer set recognition.early_final: false in the config"
                        )
                    self.dropped_bytes += len(old[1])
                elif old is not None:  # never lose an end or stop marker
                    self._audio.put_nowait(old)
                    return


# --- building -------------------------------------------------------------------------------


def load_hearing(
    locale: Locale,
    location: ModelLocation,
    settings: HearingSettings | None = None,
    report: Callable[[str], None] = report_line,
) -> Hearing:
    """Load the model at ``location``, build the grammar for ``locale``, report words it lacks."""
    model = load_model(location, locale.language)
    vocabulary = build_vocabulary(locale, has_word_function(model))
    for line in vocabulary.missing_lines(locale.source, str(location.path)):
        report(line)
    recognizer = VoskRecognizer(model, vocabulary.grammar_json())
    early = recognizer.fresh() if (settings or HearingSettings()).early_final_seconds is not None else None
    return Hearing(recognizer, vocabulary, locale, settings, early=early)


def build_listener(
    locale: Locale,
    *,
    enabled: bool = True,
    model_path: str | None = None,
    model_override: str | None = None,
    input_device: str | None = None,
    report: Callable[[str], None] = report_line,
    settings: HearingSettings | None = None,
) -> VoskListener | None:
    """The voice listener for a session, or ``None`` (after one line saying why) when it cannot be."""
    if not enabled:
        return None
    if importlib.util.find_spec("vosk") is None:
        report("coach: voice input is off: the vosk package is not installed (pip install 'coach[listen]')")
        return None
    try:
        location = resolve_model(locale.language, model_path, model_override)
        check_model_dir(location.path, locale.language)
    except ModelError as exc:
        report(f"coach: voice input is off: {exc}")
        return None
    return VoskListener(
        lambda: load_hearing(locale, location, settings, report),
        lambda: ArecordSource(input_device),
        report=report,
    )
