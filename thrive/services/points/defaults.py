"""Default data seeded by ``flask thrive seed`` (§4.2, §5.1, §5.2, §6.2)."""
from __future__ import annotations

#: Activity types only Thrive itself awards (visits, streak/goal/circle bonuses, quests, achievements):
#: the API answers 422 ``not_api_awardable`` for them (issue 10 defect 8). A rule's ``api_allowed`` column
#: can close more types; these stay closed whatever the column says.
SYSTEM_ONLY_ACTIVITY_TYPES = frozenset({
    "daily_login", "streak_bonus", "weekly_goal_completed", "circle_goal_completed", "side_quest_completed",
    "achievement_earned",
})

# activity_type: (label, category, base, extras)
DEFAULT_RULES: list[dict] = [
    dict(activity_type="quiz_completed", label="Completed a quiz", category="learning", base_points=20,
         difficulty_points={"beginner": 10, "intermediate": 25, "advanced": 50}, perfect_bonus_percent=25,
         max_per_day=10),
    dict(activity_type="project_created", label="Created a project", category="creation", base_points=20,
         max_per_day=5),
    dict(activity_type="project_updated", label="Updated a project", category="creation", base_points=10,
         max_per_day=5),
    dict(activity_type="project_published", label="Published a project", category="creation", base_points=15,
         max_per_day=5),
    dict(activity_type="comment_posted", label="Posted a comment", category="community", base_points=5, max_per_day=20),
    dict(activity_type="reaction_given", label="Cheered someone on", category="participation", base_points=2,
         max_per_day=20, allow_custom_points=True, min_points=0, max_points=2,
         notes="Cheers pass a reduced amount for repeated cheers between the same two people (§8.1)."),
    dict(activity_type="feedback_given", label="Gave feedback", category="community", base_points=10, max_per_day=10),
    dict(activity_type="daily_login", label="Showed up today", category="participation", base_points=5, max_per_day=1),
    dict(activity_type="streak_bonus", label="Streak bonus", category="consistency", base_points=5, max_per_day=1,
         allow_custom_points=True, min_points=5, max_points=500,
         notes="5 × min(streak days, 100), computed by the streak job."),
    dict(activity_type="weekly_goal_completed", label="Completed a weekly goal", category="consistency",
         base_points=25, allow_custom_points=True, min_points=1, max_points=1000,
         notes="The goal's reward; one award per goal (event key goal:<id>)."),
    dict(activity_type="circle_goal_completed", label="Reached the circle goal", category="consistency",
         base_points=25, allow_custom_points=True, min_points=1, max_points=1000,
         notes="Bonus for contributing members when their Thrive Circle reaches its weekly goal."),
    dict(activity_type="side_quest_completed", label="Completed a side quest", category="learning", base_points=100,
         difficulty_points={"beginner": 50, "intermediate": 100, "advanced": 200}, max_per_day=5,
         allow_custom_points=True, min_points=1, max_points=1000),
    dict(activity_type="battle_participated", label="Took part in a battle", category="creation", base_points=25,
         max_per_day=10),
    dict(activity_type="battle_won", label="Won a battle", category="challenge", base_points=20, max_per_day=10),
    dict(activity_type="weekly_challenge_completed", label="Completed the weekly challenge", category="challenge",
         base_points=75, max_per_week=1, allow_custom_points=True, min_points=50, max_points=500),
    dict(activity_type="event_attended", label="Attended an event", category="participation", base_points=10,
         max_per_day=3),
    dict(activity_type="scavenger_hunt_completed", label="Completed a scavenger hunt", category="learning",
         base_points=30, max_per_day=5),
    dict(activity_type="referral_converted", label="Brought a friend", category="community", base_points=100,
         max_per_week=10),
    dict(activity_type="profile_completed", label="Completed their profile", category="participation",
         base_points=50, max_ever=1),
    dict(activity_type="onboarding_completed", label="Finished onboarding", category="participation",
         base_points=30, max_ever=1),
    dict(activity_type="achievement_earned", label="Earned an achievement", category="challenge", base_points=25,
         allow_custom_points=True, min_points=25, max_points=100),
    dict(activity_type="special_event", label="Special event", category="challenge", base_points=100,
         allow_custom_points=True, min_points=100, max_points=1000),
    dict(activity_type="admin_adjustment", label="Adjustment by an admin", category=None, base_points=0,
         allow_custom_points=True, min_points=-100000, max_points=100000, allow_negative=True,
         requires_description=True, notes="Corrections; a reason is required; may be negative."),
]

DEFAULT_TIERS: list[dict] = [
    dict(key="ember", name="Ember", threshold=0, emoji="🔥", colour="#e8590c",
         tagline="Small spark with big potential"),
    dict(key="spark", name="Spark", threshold=250, emoji="✨", colour="#f59f00", tagline="Igniting the fire"),
    dict(key="blaze", name="Blaze", threshold=500, emoji="🌟", colour="#d6336c", tagline="Burning bright"),
    dict(key="beacon", name="Beacon", threshold=1000, emoji="🔦", colour="#1c7ed6",
         tagline="Lighting the way for others"),
    dict(key="phoenix", name="Phoenix", threshold=2500, emoji="🌅", colour="#7048e8",
         tagline="Reborn stronger, inspiring transformation"),
]

DEFAULT_LEVEL_THRESHOLDS: list[int] = [
    0, 50, 100, 200, 300, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500,
    9000, 10000, 12500, 15000, 17500, 20000,
]

#: Points per level beyond the level table (§5.2).
LEVEL_STEP_BEYOND_TABLE = 10_000

DEFAULT_GOAL_TEMPLATES: list[dict] = [
    dict(key="complete_activities", title="Complete 3 activities",
         description="Finish a quiz, project, side quest or battle — three times this week.",
         kind="activity_count",
         activity_types=["quiz_completed", "project_created", "project_published", "side_quest_completed",
                         "battle_participated"],
         target=3, reward=30, position=1),
    dict(key="streak_7", title="Maintain a 7-day streak", description="Show up seven days in a row.",
         kind="streak_days", activity_types=None, target=7, reward=50, position=2),
    dict(key="help_community", title="Help 5 community members",
         description="Post comments or give feedback five times.", kind="activity_count",
         activity_types=["comment_posted", "feedback_given"], target=5, reward=40, position=3),
    dict(key="new_quiz_topics", title="Try 2 new quiz topics",
         description="Complete quizzes on two topics you have never completed before.", kind="new_quiz_topics",
         activity_types=["quiz_completed"], target=2, reward=25, position=4),
]
