"""What the quest and achievement catalogues share (§10–§12): snapshot cache, keys, audited edits."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from thrive.extensions import db
from thrive.models import Achievement, AuditEntry, Quest
from thrive.services.achievements import catalog as achievements
from thrive.services.catalogs import SnapshotCache
from thrive.services.errors import ValidationError
from thrive.services.quests import catalog as quests


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_cache(clock: Clock) -> tuple[SnapshotCache, list[str]]:
    loads: list[str] = []

    def load() -> tuple[str, int]:
        from flask import current_app

        loads.append(current_app.config["SQLALCHEMY_DATABASE_URI"])
        return current_app.config["SQLALCHEMY_DATABASE_URI"], len(loads)

    return SnapshotCache(load, timer=clock), loads


def flask_app(uri: str, ttl) -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=uri, THRIVE_REGISTRY_CACHE_SECONDS=ttl)
    return app


def test_a_snapshot_lives_for_the_configured_seconds_then_reloads():
    clock = Clock()
    cache, loads = counting_cache(clock)
    with flask_app("sqlite:///a.db", 5).app_context():
        first = cache.get()
        clock.now += 4.9
        assert cache.get() is first and len(loads) == 1
        clock.now += 0.1                                       # 5 s old: expired
        assert cache.get() == ("sqlite:///a.db", 2)


def test_invalidate_drops_the_snapshot_at_once():
    clock = Clock()
    cache, loads = counting_cache(clock)
    with flask_app("sqlite:///a.db", 5).app_context():
        cache.get()
        cache.invalidate()
        assert cache.get() == ("sqlite:///a.db", 2)


def test_a_lifetime_of_zero_turns_the_cache_off():
    cache, loads = counting_cache(Clock())
    with flask_app("sqlite:///a.db", 0).app_context():
        assert [cache.get()[1] for _ in range(3)] == [1, 2, 3]


def test_each_database_has_its_own_snapshot():
    cache, loads = counting_cache(Clock())
    with flask_app("sqlite:///a.db", 5).app_context():
        assert cache.get() == ("sqlite:///a.db", 1)
    with flask_app("sqlite:///b.db", 5).app_context():
        assert cache.get() == ("sqlite:///b.db", 2)
    with flask_app("sqlite:///a.db", 5).app_context():
        assert cache.get() == ("sqlite:///a.db", 1)
    assert loads == ["sqlite:///a.db", "sqlite:///b.db"]


@pytest.fixture
def cached_app(app):
    """The test app with catalogue snapshots on (600 s); none outlives the test (the next may reuse its URI)."""
    app.config["THRIVE_REGISTRY_CACHE_SECONDS"] = 600
    with app.app_context():
        quests.invalidate()
        achievements.invalidate()
        yield app
        quests.invalidate()
        achievements.invalidate()
        db.session.remove()


def test_catalogue_edits_through_the_services_apply_at_once_other_writes_after_invalidation(cached_app):
    assert quests.published().by_id == {}
    quest = quests.create_quest({"key": "cached", "title": "Cached", "activity_type": "quiz_completed", "target": 2})
    quests.set_status(quest.id, "published")
    assert set(quests.published().by_id) == {quest.id}                 # the service invalidated
    badge = achievements.create_achievement({
        "key": "cached-badge", "name": "Cached", "criteria_text": "Complete a quiz.",
        "criteria": {"kind": "activity_count", "activity_type": "quiz_completed", "target": 1}})
    assert badge.id in achievements.active().by_id

    db.session.execute(update(Quest).values(title="Renamed behind the cache's back"))
    db.session.execute(update(Achievement).where(Achievement.id == badge.id).values(status="retired"))
    db.session.commit()
    assert quests.published().by_id[quest.id].title == "Cached"       # a snapshot, not a live read
    assert badge.id in achievements.active().by_id
    quests.invalidate()
    achievements.invalidate()
    assert quests.published().by_id[quest.id].title == "Renamed behind the cache's back"
    assert badge.id not in achievements.active().by_id


QUEST = {"title": "Quest", "activity_type": "quiz_completed", "target": 2}
BADGE = {"name": "Badge", "criteria_text": "Complete a quiz.",
         "criteria": {"kind": "activity_count", "activity_type": "quiz_completed", "target": 1}}


def test_keys_are_checked_and_unique_in_both_catalogues(app_ctx):
    for create, update_, values in ((quests.create_quest, quests.update_quest, QUEST),
                                    (achievements.create_achievement, achievements.update_achievement, BADGE)):
        for bad in ("", "  ", "A", "Has Space", "-lead", "x" * 65, 7):
            with pytest.raises(ValidationError) as err:
                create({**values, "key": bad})
            assert err.value.code == "invalid_key", bad
        first = create({**values, "key": " first "})                  # stripped
        second = create({**values, "key": "second_2"})
        assert first.key == "first"
        with pytest.raises(ValidationError) as err:
            create({**values, "key": "first"})
        assert err.value.code == "key_taken"
        with pytest.raises(ValidationError) as err:
            update_(second.id, {"key": "first"})
        assert err.value.code == "key_taken"
        assert update_(first.id, {"key": "first"})[1].key == "first"    # a row keeps its own key
    assert "a quest with key 'first' exists" in str(_error(quests.create_quest, {**QUEST, "key": "first"}))
    assert "an achievement with key 'first' exists" in str(
        _error(achievements.create_achievement, {**BADGE, "key": "first"}))


def _error(create, values) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        create(values)
    return err.value


def test_staff_edits_are_audited_in_their_transaction_seeding_is_not(app_ctx, make_learner):
    staff = make_learner(is_admin=True)
    quest = quests.create_quest({**QUEST, "key": "audited"}, actor=staff)
    quests.set_status(quest.id, "published", actor=staff)
    badge = achievements.create_achievement({**BADGE, "key": "audited"}, actor=staff)
    achievements.set_status(badge.id, "retired", actor=staff)
    quests.create_quest({**QUEST, "key": "unaudited"})                 # no actor: no entry
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_type, e.target_id, e.actor_id) for e in entries] == [
        ("quest.create", "quest", str(quest.id), staff.id),
        ("quest.published", "quest", str(quest.id), staff.id),
        ("achievement.create", "achievement", str(badge.id), staff.id),
        ("achievement.retire", "achievement", str(badge.id), staff.id),
    ]
    assert entries[0].before is None and entries[0].after["key"] == "audited"
    assert (entries[1].before["status"], entries[1].after["status"]) == ("draft", "published")
    assert entries[3].after["status"] == "retired"
