"""The playback thread against a fake device: chunks land at the time the device says they are heard."""

from __future__ import annotations

import threading
from array import array

from coach.errors import DeviceError
from coach.voice.mixer import Timeline
from coach.voice.player import CHUNK_SECONDS, Player

RATE = 1000


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


class FakeOutput:
    """A device with a constant 60 ms queue; each write 'plays' one chunk and moves the clock on."""

    rate = RATE

    def __init__(self, clock: FakeClock, fail_after: int | None = None) -> None:
        self.clock = clock
        self.written = array("h")
        self.fail_after = fail_after
        self.full = threading.Event()

    def delay_seconds(self) -> float:
        return 0.060

    def write(self, samples: array[int]) -> None:
        if self.fail_after is not None and len(self.written) >= self.fail_after:
            raise DeviceError("audio: device unplugged")
        self.written.extend(samples)
        self.clock.t += len(samples) / RATE
        if len(self.written) >= 3000:
            self.full.set()
            threading.Event().wait(0.001)

    def close(self) -> None:
        pass


def test_player_places_a_clip_where_the_device_will_play_it() -> None:
    clock = FakeClock()
    timeline = Timeline(RATE)
    timeline.schedule(array("h", [3] * 100), 1.0, "count")
    output = FakeOutput(clock)
    player = Player(lambda: output, timeline, clock)
    player.start(output)
    assert output.full.wait(5)
    player.close()
    # Sample k of the stream is heard at 0.060 + k / RATE; the clip is due at 1.000 s.
    first = output.written.index(3)
    assert first == round((1.0 - 0.060) * RATE)
    assert list(output.written[first : first + 100]) == [3] * 100
    assert player.ready.is_set() and round(CHUNK_SECONDS * RATE) == 10


def test_player_reports_a_failed_device_once_and_reopens_it() -> None:
    clock = FakeClock()
    faults: list[str] = []
    opened: list[FakeOutput] = []
    recovered = threading.Event()

    def reopen() -> FakeOutput:
        fresh = FakeOutput(clock)
        opened.append(fresh)
        return fresh

    first = FakeOutput(clock, fail_after=200)
    player = Player(reopen, Timeline(RATE), clock, on_fault=faults.append, on_recovered=recovered.set)
    import coach.voice.player as module

    saved = module.RETRY_SECONDS
    module.RETRY_SECONDS = (0.01,)
    try:
        player.start(first)
        assert recovered.wait(5)
        assert opened and opened[0].full.wait(5)
    finally:
        player.close()
        module.RETRY_SECONDS = saved
    assert faults == ["audio: device unplugged"]
