"""Voice debriefs after customer meetings (issue 10 §1): three fixed questions answered by voice or text,
understood (objection and strategy labels from the conversation classifier, the next step's action, date and
person), applied to the deal, the timeline and the snippet library, and measured (/复盘率).

Modules: triggers (when a debrief starts; the sweep), session (which debrief an answer belongs to; finishing),
understand (transcript → answers → meaning), apply (deal, timeline, library, echo), rate (/复盘率, digests),
peers (the classifier, library and voice analysis this builds on); commands holds the router.
"""

from handlers.debrief.commands import router

__all__ = ["router"]
