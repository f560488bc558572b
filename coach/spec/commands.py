"""The one list of command names, at the bottom of the layers.

Why here and not in ``coach.core.messages``: the locale file (``coach.spec.locale``) must check
that it gives words for every command a person can say, and ``spec`` sits below ``core`` (the
files coming in are validated before anything runs on them), so it cannot import ``core``. The
names are plain vocabulary with no behaviour, so they live at the lowest layer that needs them;
``coach.core.messages`` re-exports them for everything above, which is where they are used.
"""

from __future__ import annotations

from enum import StrEnum


class CommandName(StrEnum):
    """Every command, the one list: the locale's words, the input script, the keyboard, the buttons
    and the session all name commands with these (a typo is an error where it is written, not a
    command silently ignored)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    NEXT = "next"
    REPEAT = "repeat"
    STOP = "stop"
    HELP = "help"
    YES = "yes"
    NO = "no"
    WAIT = "wait"
    """Not said by a person: a control is part-way through an answer (counting presses); give them time."""
    ABANDON = "abandon"
    """Not said by a person: nobody has answered for a long time (a kiosk's "walked away")."""


PERSON_COMMANDS: tuple[CommandName, ...] = tuple(c for c in CommandName if c not in (CommandName.WAIT, CommandName.ABANDON))
"""The commands a person can give: by voice, keyboard, buttons or an input script (and the ones
every locale must give words for)."""
