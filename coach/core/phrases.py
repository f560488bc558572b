"""Everything a session may say that can be known before it starts: what a speech cache renders.

Kept apart from the session because it is a question about the script, the locale and the offer, not
about the session's state: it reads what the session was built with and nothing it has done.
"""

from __future__ import annotations

from coach.core.pain_dialogue import PainDialogue
from coach.core.script import Block, Script
from coach.core.states import Progress, ResumeOffer
from coach.spec.locale import Locale


def session_phrases(
    script: Script, locale: Locale, pain: PainDialogue, offer: ResumeOffer | None, every_resume: bool = False
) -> set[str]:
    """The texts of every cue, command reply, pain phrase and resume offer a session of ``script`` may say.

    Summaries that combine two ratings are left out: they are said once, at the end, and can be
    rendered then. ``every_resume``: a kiosk renders at boot what any later person may be offered.
    """
    say = locale.say
    progress = Progress(script.routine.exercises)
    texts = {cue.text for block in script.blocks for cue in block.cues}  # easier forms too
    changes = {block.changes for block in script.blocks if block.changes}
    texts |= {say(key) for key in ("paused", "resumed", "skipped", "stopped", "help", "goodbye")} | pain.phrases(changes)
    blocks = [s for s in script.steps if isinstance(s, Block)]
    texts |= {say("repeating", name=block.title) for block in blocks}
    offers = [offer] if offer is not None else []
    if every_resume:
        offers = [ResumeOffer(0, b.exercise_index) for b in script.exercise_blocks if b.exercise_index]
    totals = {progress.total(0)}
    for each in offers:
        name = each.title(script)
        texts |= {say("resume_offer", name=name), say("resume_accepted", name=name), say("resume_declined")}
        totals.add(progress.total(each.exercise_index))
    texts |= {say("summary_done", done=done, total=total) for total in totals for done in range(total + 1)}
    return texts
