"""Thrive's models, one module per aggregate. Importing this package registers them all."""
from .api_key import ApiKey  # noqa: F401
from .community import Celebration, Cheer, Notification  # noqa: F401
from .learner import Follow, Learner, LearnerState, LearnerTopic  # noqa: F401
from .points import CATEGORIES, LedgerEntry, PointRule  # noqa: F401
from .progression import Level, ProgressionEvent, Tier  # noqa: F401
from .weekly import Circle, CircleMembership, GoalTemplate, JobRun, WeeklyGoal  # noqa: F401
from .ops import SchedulerHeartbeat  # noqa: F401
