"""Whether to offer going on with a session that was cut off (power pulled, crash), and from where.

The store knows the last session and where it stopped (:meth:`Journal.last_interrupted`);
this decides whether that is worth offering to the person starting now: only for the same routine
file (an edited routine's exercise numbers may mean something else), only when something was
done and something is left, and only while it is recent. At home "recent" is the same day; at a
shared kiosk it is a few minutes, so the offer reaches the person whose session the power cut,
not the next patient.
"""

from __future__ import annotations

import datetime as _dt

from coach.core.states import ResumeOffer
from coach.run.ports import Journal
from coach.spec.routine import Routine

RESUME_WITHIN = _dt.timedelta(hours=12)
"""``coach run``: how long after it was cut a session is offered to be resumed."""
KIOSK_RESUME_WITHIN = _dt.timedelta(minutes=10)
"""``coach kiosk``: the same, at a station that may serve someone else next."""


def resume_offer(journal: Journal, routine: Routine, within: _dt.timedelta) -> ResumeOffer | None:
    """The offer to make at the start of ``routine``, or ``None``."""
    last = journal.last_interrupted()
    if last is None or last.routine != routine.id or last.version != routine.version:
        return None
    if not 0 < last.resume_index < len(routine.exercises):
        return None
    try:
        cut = _dt.datetime.fromisoformat(last.ended or last.started)
    except ValueError:
        return None
    if not _dt.timedelta(0) <= journal.now() - cut <= within:
        return None
    return ResumeOffer(last.session_id, last.resume_index)
