"""The incident queue: a live, risk-ordered table an operator triages by keyboard.

- ``rows``    ``QueueData``: the rows as numpy columns (no Qt: built off the GUI thread)
- ``model``   ``QueueModel``: the virtual table over them; filter and sort with numpy,
              live changes merged without a reset (selection and scroll kept)
- ``columns`` what each column shows: the words, the deadline clock and its colour
- ``keys``    the triage actions, their keys and the statuses they apply to
- ``dialogs`` what an action asks for (a reason, an excused stretch, a note)
- ``triage``  running an action: its dialog, then the call on the store lane
- ``filters`` the filter bar (status, cohort, condition, code, free text)
- ``panel``   ``QueuePanel``: filter bar, table, count, polling on the store lane
"""
from .model import QueueFilter, QueueModel
from .panel import QueuePanel

__all__ = ["QueueFilter", "QueueModel", "QueuePanel"]
