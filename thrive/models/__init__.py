"""Thrive's models, one module per aggregate. Importing this package registers them all."""
from .learner import Learner, LearnerState, LearnerTopic, Follow  # noqa: F401
from .points import PointRule, LedgerEntry, CATEGORIES  # noqa: F401
from .progression import Tier, Level, ProgressionEvent  # noqa: F401
from .api_key import ApiKey  # noqa: F401
from .community import Notification, Celebration, Cheer  # noqa: F401
from .weekly import Circle, CircleMembership, GoalTemplate, WeeklyGoal, JobRun  # noqa: F401
