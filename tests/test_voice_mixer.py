"""The playback timeline: exact placement, and the overlap rule (counts pre-empt, instructions move)."""

from __future__ import annotations

from array import array

from coach.voice.mixer import Timeline

RATE = 1000  # one sample per millisecond keeps the arithmetic readable


def clip(value: int, seconds: float) -> array[int]:
    return array("h", [value] * round(seconds * RATE))


def test_mixer_clip_starts_on_the_exact_sample_of_its_due_time() -> None:
    timeline = Timeline(RATE)
    timeline.schedule(clip(7, 0.1), 1.234, "count")
    out = timeline.render(1.2, 100)
    assert list(out[:34]) == [0] * 34
    assert list(out[34:100]) == [7] * 66


def test_mixer_count_cuts_what_is_still_playing_with_a_fade() -> None:
    timeline = Timeline(RATE)
    timeline.schedule(clip(1000, 2.0), 0.0, "instruction")
    count = timeline.schedule(clip(5, 0.3), 1.0, "count")
    assert count.start == 1.0
    out = timeline.render(0.9, 200)
    before_cut = list(out[:100])
    assert before_cut[:85] == [1000] * 85  # untouched until the 10 ms fade
    assert before_cut[-1] < 200 and before_cut == sorted(before_cut, reverse=True)
    assert list(out[100:200]) == [5] * 100


def test_mixer_instruction_waits_for_what_is_playing() -> None:
    timeline = Timeline(RATE)
    timeline.schedule(clip(1, 1.5), 10.0, "cue")
    moved = timeline.schedule(clip(2, 1.0), 11.0, "instruction")
    assert moved.start == 11.5
    out = timeline.render(11.0, 1000)
    assert list(out[:500]) == [1] * 500 and list(out[500:]) == [2] * 500


def test_mixer_moved_instruction_is_still_cut_by_a_later_count() -> None:
    timeline = Timeline(RATE)
    timeline.schedule(clip(1, 1.0), 0.0, "cue")
    timeline.schedule(clip(2, 3.0), 0.5, "instruction")  # moved to 1.0 .. 4.0
    timeline.schedule(clip(3, 0.2), 2.0, "count")
    out = timeline.render(0.0, 3000)
    assert out[999] == 1 and out[1000] == 2 and out[2000] == 3 and out[2200] == 0


def test_mixer_never_schedules_into_audio_already_handed_to_the_device() -> None:
    timeline = Timeline(RATE)
    timeline.render(0.0, 500)
    late = timeline.schedule(clip(9, 0.1), 0.2, "count")
    assert late.start == 0.5


def test_mixer_cancel_silences_the_rest() -> None:
    timeline = Timeline(RATE)
    timeline.schedule(clip(4, 1.0), 0.0, "instruction")
    timeline.schedule(clip(6, 0.2), 2.0, "count")
    timeline.cancel_from(0.5)
    out = timeline.render(0.0, 3000)
    assert out[400] == 4 and max(out[500:]) == 0
    assert timeline.busy_until() <= 0.5
