"""What each layout's gestures mean in each session state: pure, like the session itself.

A layout gets gestures (from :mod:`coach.controls.gestures`) and the session state (from the
runner's ``show_state``) and returns :class:`~coach.run.inputs.Input` items for the runner's inbox.
It keeps the small dialogue of entering a number with one button or a dial, and asks to be
ticked at :meth:`Layout.deadline` like everything else here, so tests run on exact times.

The main button means the same in every layout outside a rating: press = start (idle), resume
(paused) or next (intro, exercise); hold = pause; keep holding to the long hold = stop (a person
hears "Paused" first, then "Stopping", which is the escalation we want: pausing is the safe
first step). Ratings:

- one button: press N times, then wait :data:`COUNT_GAP_SECONDS`; the coach says "three. Press
  again to confirm."; one more press sends the rating. **Zero is a hold** (about a second, then
  let go): "zero. Press again to confirm." A person with eyes closed can do both without
  counting to eleven. An offer not confirmed within :data:`CONFIRM_WINDOW_SECONDS` is dropped
  ("Not saved…") so a miscount can be entered again. In a rating the hold does not pause.
- three buttons / encoder: down/up (or a turn) steps the value from 0, each value is said once
  the stepping settles; OK (or a push) sends it. OK before any step offers zero. In the
  voice read-back ("I heard six, say yes"), OK before any step means yes. Outside a pain check,
  stepping starts an unprompted rating (the session accepts one any time); it lapses unsent
  after :data:`CONFIRM_WINDOW_SECONDS`.
"""

from __future__ import annotations

from coach.controls.gestures import DOWN, HOLD, HOLD_RELEASE, LONG_HOLD, OK, PRESS, STEP, UP, Gesture
from coach.controls.phrases import Phrases
from coach.core.messages import CommandName
from coach.run.inputs import Input

RATING_STATES = frozenset({"pain-check", "confirm", "menu", "code", "feedback"})
"""States where presses enter a number: a pain rating, or a kiosk menu choice."""
PAUSABLE = frozenset({"intro", "exercise", "pain-check", "confirm"})
UNPROMPTED = frozenset({"intro", "exercise", "paused"})
"""States where the session takes a rating nobody asked for."""
PRESS_MEANS = {
    "idle": CommandName.START,
    "resume-offer": CommandName.YES,
    "paused": CommandName.RESUME,
    "intro": CommandName.NEXT,
    "exercise": CommandName.NEXT,
    "screen": CommandName.YES,
    "code-confirm": CommandName.YES,
}
"""A press in each state. In the red-flag screen a press is "yes" (something to report) and a hold is "no":
a stray or habitual press may end a session, but can never wave a red flag through."""
HOLD_MEANS = {"screen": CommandName.NO, "code-confirm": CommandName.NO}

COUNT_GAP_SECONDS = 1.5
"""Quiet after the last press that ends a count (seconds): longer than the gap between deliberate
presses of someone counting, short enough not to feel like waiting."""
CONFIRM_WINDOW_SECONDS = 8.0
"""How long an offered rating waits for its confirming press (seconds); it includes the time the
offer takes to say (about 2 s)."""
ANNOUNCE_SETTLE_SECONDS = 0.35
"""A dial value is said once stepping pauses this long (seconds), so a fast turn from 0 to 7 says
"seven", not every number on the way."""
MAX_RATING = 10
SOURCE = "button"
"""The source of every input from the physical controls (a button rating counts at once)."""


def command(name: CommandName) -> Input:
    return Input("command", name, SOURCE)


def announce(text: str) -> Input:
    return Input("announce", text, SOURCE)


def rating(value: int) -> Input:
    return Input("rating", value, SOURCE)


def main_button(kind: str, state: str) -> list[Input]:
    """The main button outside a rating dialogue, the same in every layout."""
    name: CommandName | None = None
    if kind == PRESS:
        name = PRESS_MEANS.get(state)
    elif kind == HOLD:
        name = CommandName.PAUSE if state in PAUSABLE else HOLD_MEANS.get(state)
    elif kind == LONG_HOLD:
        name = CommandName.STOP if state not in ("summary", "ended") else None
    return [command(name)] if name else []


class Layout:
    """Shared by the layouts: the state, and hints said once per session: how to rate at the first pain
    check, and how to answer yes or no (press, hold) when the red-flag screen or a symptom's question starts."""

    hint_key = ""

    def __init__(self, phrases: Phrases) -> None:
        self.phrases = phrases
        self.state = "idle"
        self.hinted = False
        self.screen_hinted = False
        self.reset()

    def reset(self) -> None:
        """Forget any number being entered."""

    def set_state(self, state: str) -> list[Input]:
        was_rating = self.state in RATING_STATES
        self.state = state
        if state == "idle":
            self.hinted = self.screen_hinted = False
        if state == "screen" and not self.screen_hinted:
            self.screen_hinted = True
            hint = self.phrases.get("hint_screen")
            return [announce(hint)] if hint else []
        if (state in RATING_STATES) != was_rating or state in ("idle", "summary", "ended"):
            self.reset()
        if state in RATING_STATES and not was_rating and not self.hinted:
            self.hinted = True
            hint = self.phrases.get(self.hint_key)
            return [announce(hint)] if hint else []
        return []

    def gesture(self, g: Gesture) -> list[Input]:
        raise NotImplementedError

    def deadline(self) -> float | None:
        raise NotImplementedError

    def tick(self, now: float) -> list[Input]:
        raise NotImplementedError


class OneButton(Layout):
    """One button: count presses for a rating, hold for zero, confirm with one more press."""

    hint_key = "hint_one_button"

    def __init__(
        self, phrases: Phrases, count_gap: float = COUNT_GAP_SECONDS, confirm_window: float = CONFIRM_WINDOW_SECONDS
    ) -> None:
        self.count_gap = count_gap
        self.confirm_window = confirm_window
        super().__init__(phrases)

    def reset(self) -> None:
        self.count = 0
        self.last_press = 0.0
        self.offered: int | None = None
        self.offered_at = 0.0

    def gesture(self, g: Gesture) -> list[Input]:
        if g.control != OK:
            return []
        if self.state not in RATING_STATES:
            return main_button(g.kind, self.state)
        if g.kind == PRESS:
            if self.offered is not None:
                value = self.offered
                self.reset()
                return [rating(value)]
            self.count = min(self.count + 1, MAX_RATING)
            self.last_press = g.at
            return []
        if g.kind == HOLD_RELEASE:
            return self._offer(0, g.at)
        if g.kind == LONG_HOLD:
            return [command(CommandName.STOP)]
        return []

    def _offer(self, value: int, at: float) -> list[Input]:
        self.reset()
        self.offered, self.offered_at = value, at
        return [announce(self.phrases.with_number("button_confirm", value))]

    def deadline(self) -> float | None:
        if self.count:
            return self.last_press + self.count_gap
        if self.offered is not None:
            return self.offered_at + self.confirm_window
        return None

    def tick(self, now: float) -> list[Input]:
        if self.count and now >= self.last_press + self.count_gap:
            return self._offer(self.count, self.last_press + self.count_gap)
        if self.offered is not None and now >= self.offered_at + self.confirm_window:
            self.reset()
            text = self.phrases.get("rating_not_saved")
            return [announce(text)] if text else []
        return []


class Dial(Layout):
    """Down/up buttons or an encoder choose a value, OK (the push switch) sends it."""

    def __init__(
        self,
        phrases: Phrases,
        encoder: bool = False,
        settle: float = ANNOUNCE_SETTLE_SECONDS,
        lapse: float = CONFIRM_WINDOW_SECONDS,
    ) -> None:
        self.confirm_key = "knob_confirm" if encoder else "ok_confirm"
        self.hint_key = "hint_encoder" if encoder else "hint_three_buttons"
        self.settle = settle
        self.lapse = lapse
        super().__init__(phrases)

    def reset(self) -> None:
        self.value: int | None = None
        self.touched_at = 0.0
        self.say_at: float | None = None
        self.told = False
        """Whether this dialogue has said how to confirm (only the first value says it)."""

    def gesture(self, g: Gesture) -> list[Input]:
        if g.kind == STEP or (g.control in (UP, DOWN) and g.kind == PRESS):
            return self._step(1 if g.control == UP else -1, g.at)
        if g.control != OK:
            return []
        if g.kind == PRESS:
            return self._ok(g.at)
        return main_button(g.kind, self.state)

    def _open(self) -> bool:
        return self.state in RATING_STATES or self.state in UNPROMPTED

    def _step(self, delta: int, at: float) -> list[Input]:
        if not self._open():
            return []
        self.value = max(0, min(MAX_RATING, (self.value or 0) + delta))
        self.touched_at, self.say_at = at, at + self.settle
        return []

    def _ok(self, at: float) -> list[Input]:
        if self.value is not None and self._open():
            value = self.value
            self.reset()
            return [rating(value)]
        if self.state == "confirm":
            return [command(CommandName.YES)]
        if self.state == "pain-check":
            self.value, self.touched_at, self.told = 0, at, True
            return [announce(self.phrases.with_number(self.confirm_key, 0))]
        return main_button(PRESS, self.state)

    def deadline(self) -> float | None:
        due = [] if self.say_at is None else [self.say_at]
        if self.value is not None and self.state not in RATING_STATES:
            due.append(self.touched_at + self.lapse)
        return min(due, default=None)

    def tick(self, now: float) -> list[Input]:
        out: list[Input] = []
        if self.say_at is not None and now >= self.say_at and self.value is not None:
            self.say_at = None
            text = self.phrases.number(self.value) if self.told else self.phrases.with_number(self.confirm_key, self.value)
            self.told = True
            out.append(announce(text))
        if self.value is not None and self.state not in RATING_STATES and now >= self.touched_at + self.lapse:
            self.reset()
            lapsed = self.phrases.get("rating_not_saved")
            out += [announce(lapsed)] if lapsed else []
        return out
