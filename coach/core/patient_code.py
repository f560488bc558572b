"""A patient's code at a shared station: said or pressed digit by digit, read back, confirmed.

A clinic's waiting-room station serves many people. With codes on, the kiosk asks each one for their code
before the session, so that their records, and their programme, are theirs (the session's ``profile``), and
the coach never offers one person what it knows of another. The code is a pseudonym the clinic hands out
(digits only, never a name).

The conversation: "Please enter your patient code: its 4 digits, one at a time." Each digit is a number,
said ("four") or pressed (four presses, a hold for zero) or typed; the coach echoes it. The state is
``code`` while digits are entered (buttons count presses) and ``code-confirm`` at the read-back (a press
is yes, a hold no, as in the red-flag screen). After the last, it
reads the code back ("Your code is 4, 2, 7, 1. Is that right?"): yes, and the code is known (or no list of
codes is kept), the session runs under it; no, and it is entered again. A code the clinic's list does not
hold gets one retry; then, as when nobody enters one at all, the session runs anonymous (``code`` None),
saying so. "Stop" goes back to idle (:attr:`CodeEntry.cancelled`). The event stream says how it ended, never
the code.

Like :class:`~coach.core.menu.Menu`, its phrases are instructions said after whatever is being said; it asks
the runner (:class:`AwaitQuiet`) when they are over and the answer window counts from there. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

from coach.core.menu import AwaitQuiet, MenuAction, Note
from coach.core.messages import Action, Command, CommandName, Event, Rating, Say, StateChanged, Tick
from coach.spec.locale import Locale

CODE_ANSWER_SECONDS = 15.0
"""How long to wait for the next digit, or the read-back's yes or no, once the question has been said."""
ENTRIES = 2
"""How many times a code may be entered: the first, and one retry (a wrong read-back, or an unknown code)."""


@dataclass(frozen=True)
class CodeDone(Note):
    """How the code entry ended (event ``code``): ``confirmed``, ``anonymous`` or ``cancelled``, and why."""

    status: str
    reason: str

    kind = "code"

    def fields(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason}


class Phase(Enum):
    START = "start"
    """Not yet asked: due at the entry's start time."""
    ASKING = "asking"
    """Something is being said: answers count; the window opens when it is over (the runner's quiet tick)."""
    ANSWERING = "answering"
    DONE = "done"


class CodeEntry:
    """One person's code, from the question to a confirmed code, anonymous, or cancelled."""

    def __init__(self, locale: Locale, at: float, digits: int, known: Collection[str] | None = None,
                 answer_seconds: float = CODE_ANSWER_SECONDS, lead: float = 0.0) -> None:  # fmt: skip
        if not 1 <= digits <= 12:
            raise ValueError(f"a patient code has 1 to 12 digits, not {digits}")
        self.locale = locale
        self.digits = digits
        self.known = None if known is None else frozenset(known)
        """The clinic's codes; ``None``: any code of the right length is taken."""
        self.answer_seconds = answer_seconds
        self.lead = lead
        self.entered: list[int] = []
        self.entries = 0
        """Codes entered so far (read back and answered, or refused)."""
        self.reading_back = False
        self.silences = 0
        self.start = at
        self.phase = Phase.START
        self.closes = 0.0
        self.code: str | None = None
        """The confirmed code; ``None`` when the session runs anonymous (or was cancelled)."""
        self.cancelled = False
        self._out: list[Action | MenuAction] = []

    # --- the interface the runner uses ------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.phase is Phase.DONE

    def next_deadline(self) -> float | None:
        if self.phase is Phase.START:
            return self.start
        return self.closes + self.lead if self.phase is Phase.ANSWERING else None

    def handle(self, event: Event) -> list[Action | MenuAction]:
        """Feed one event; return the actions to perform, in order."""
        self._out = []
        if self.phase is Phase.DONE:
            return []
        if isinstance(event, Tick):
            self._tick(event.at)
        elif self.phase is Phase.START:
            return []
        elif isinstance(event, Rating) and not self.reading_back:
            self._digit(event.value, event.at)
        elif isinstance(event, Command):
            self._command(CommandName(event.name), event.at)
        return self._out

    def abort(self, at: float, status: str) -> list[Action | MenuAction]:
        """End at once: nothing recorded, nothing more said."""
        self.phase = Phase.DONE
        return []

    @staticmethod
    def phrases(locale: Locale, digits: int) -> set[str]:
        """What an entry may say that can be known in advance (for a speech cache): all but the read-back."""
        keys = ("code_one_digit", "code_anonymous", "code_thanks", "kiosk_no_choice")
        counted = ("code_prompt", "code_again", "code_unknown")
        texts = {locale.say(key) for key in keys} | {locale.say(key, n=digits) for key in counted}
        texts |= {locale.say("code_reask", n=n) for n in range(1, digits + 1)}
        return texts | {locale.say("code_digit", n=n) for n in range(10)}

    # --- steps ------------------------------------------------------------------------------

    def _start(self, at: float) -> None:
        self._out.append(StateChanged("code", at))
        self._say(self.locale.say("code_prompt", n=self.digits), at)
        self._ask()

    def _tick(self, at: float) -> None:
        if self.phase is Phase.START and at >= self.start:
            self._start(at)
        elif self.phase is Phase.ASKING:  # the runner's quiet tick: what was said is over
            self.closes = at + self.answer_seconds
            self.phase = Phase.ANSWERING
        elif self.phase is Phase.ANSWERING and at >= self.closes + self.lead:
            self._silence(at - self.lead)

    def _digit(self, value: int, at: float) -> None:
        if not 0 <= value <= 9:
            self._say(self.locale.say("code_one_digit"), at)
            self._ask()
            return
        self.entered.append(value)
        self.silences = 0
        if len(self.entered) < self.digits:
            self._say(self.locale.say("code_digit", n=value), at)
            self._ask()
            return
        self.reading_back = True
        self._out.append(StateChanged("code-confirm", at))  # a press now means yes, a hold no (not a digit)
        self._say(self.locale.say("code_readback", code=", ".join(map(str, self.entered))), at)
        self._ask()

    def _command(self, name: CommandName, at: float) -> None:
        if name is CommandName.STOP:
            self._finish("cancelled", "stop", at, "kiosk_no_choice")
            self.cancelled = True
        elif self.reading_back and name is CommandName.YES:
            self._confirmed(at)
        elif self.reading_back and name is CommandName.NO:
            self._again(at, "code_again")

    def _confirmed(self, at: float) -> None:
        code = "".join(map(str, self.entered))
        if self.known is None or code in self.known:
            self.code = code
            self._finish("confirmed", "known" if self.known is not None else "entered", at, "code_thanks")
        else:
            self._again(at, "code_unknown")

    def _again(self, at: float, key: str) -> None:
        """A wrong read-back or an unknown code: once more, then anonymous."""
        self.entries += 1
        if self.entries >= ENTRIES:
            reason = "unknown" if key == "code_unknown" else "not confirmed"
            self._finish("anonymous", reason, at, "code_anonymous")
            return
        self.entered, self.reading_back = [], False
        self._out.append(StateChanged("code", at))
        self._say(self.locale.say(key, n=self.digits), at)
        self._ask()

    def _silence(self, at: float) -> None:
        """No answer: asked once more; a second silence runs the session without a code."""
        self.silences += 1
        if self.silences >= 2:
            self._finish("anonymous", "no answer", at, "code_anonymous")
            return
        if self.reading_back:
            self._say(self.locale.say("code_readback", code=", ".join(map(str, self.entered))), at)
        else:
            self._say(self.locale.say("code_reask", n=self.digits - len(self.entered)), at)
        self._ask()

    def _finish(self, status: str, reason: str, at: float, key: str) -> None:
        self._out.append(CodeDone(at, status, reason))
        self._say(self.locale.say(key), at)
        self.phase = Phase.DONE

    def _ask(self) -> None:
        self.phase = Phase.ASKING
        self._out.append(AwaitQuiet())

    def _say(self, text: str, decided: float) -> None:
        """Said after whatever is being said now (instructions, not beats), ``lead`` after it is decided."""
        self._out.append(Say(text, decided + self.lead, "code", "instruction"))
