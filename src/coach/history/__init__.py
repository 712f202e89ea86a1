"""Progress across sessions: the SQLite history store, the adaptive plan, exports and a plot."""

from coach.history.planner import Plan, PlanReason, ScreeningNeed, ScreeningWhy, plan_next
from coach.history.store import (HistoryStore, HoldRecord, ScreeningAnswer, SessionRecord,
                                 default_db_path)
from coach.history.words import (default_templates, describe_plan, spoken_duration,
                                 spoken_summary)

__all__ = ["HistoryStore", "HoldRecord", "Plan", "PlanReason", "ScreeningAnswer", "ScreeningNeed",
           "ScreeningWhy", "SessionRecord", "default_db_path", "default_templates",
           "describe_plan", "plan_next", "spoken_duration", "spoken_summary"]
