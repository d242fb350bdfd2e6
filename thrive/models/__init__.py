"""Thrive's models, one module per aggregate. Importing this package registers them all."""
from .achievements import Achievement, LearnerAchievement  # noqa: F401
from .admin_snapshot import DashboardSnapshot  # noqa: F401
from .api_key import ApiKey  # noqa: F401
from .audit import AuditEntry  # noqa: F401
from .community import Celebration, Cheer, Notification  # noqa: F401
from .learner import Follow, Learner, LearnerState, LearnerTopic  # noqa: F401
from .moderation import FeedReport, HiddenFeedItem, ModerationAction  # noqa: F401
from .ops import SchedulerHeartbeat  # noqa: F401
from .points import (  # noqa: F401
    CATEGORIES,
    LedgerDuplicate,
    LedgerEntry,
    PointRule,
    PointRuleVersion,  # noqa: F401
)
from .progression import Level, ProgressionEvent, Tier  # noqa: F401
from .quests import LearnerQuest, Quest  # noqa: F401
from .sign_in_link import SignInLink  # noqa: F401
from .weekly import Circle, CircleMembership, GoalTemplate, JobRun, WeeklyGoal  # noqa: F401
