"""What a change of an agent is (its state moved, not only a field's time), and replay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.domain.agent import AgentKey, AgentRecord
from ccms.domain.changes import AgentChange, is_change, replay, state

pytestmark = pytest.mark.unit

BOOKKEEPING = ("status_event_at", "reason_at", "name_at", "phone_at", "media_at", "skills_at",
               "calls_at")  # fmt: skip
BASE = AgentRecord(1, 1, 101, 5, cti_status=1, status_at=5, name="Ann", skills=(2,))


@given(field=st.sampled_from(AgentRecord._fields), value=st.integers(6, 99))
def test_a_change_is_any_field_but_the_times_fields_were_set(field: str, value: int) -> None:
    replacement: object = value
    if field in ("skills",):
        replacement = (value,)
    elif field in ("calls",):
        replacement = (str(value),)
    elif field in ("name", "phone_number"):
        replacement = str(value)
    moved = BASE._replace(**{field: replacement})
    assert is_change(BASE, moved) is (field not in BOOKKEEPING)
    assert (state(BASE) == state(moved)) is (field in BOOKKEEPING)


def test_a_new_agent_is_always_a_change_and_the_same_record_never() -> None:
    assert is_change(None, BASE)
    assert not is_change(BASE, BASE)
    assert not is_change(BASE, BASE._replace())


def test_replay_applies_in_order_record_is_cur() -> None:
    busy = BASE._replace(cti_status=3, status_at=9)
    other = AgentRecord(1, 1, 102, 7)
    agents: dict[AgentKey, AgentRecord] = {BASE.key: BASE}
    replay(
        agents,
        [AgentChange(1, 9, "b", BASE, busy), AgentChange(2, 7, "n", None, other),
         AgentChange(3, 11, "i", busy, BASE)],
    )  # fmt: skip
    assert agents == {BASE.key: BASE, other.key: other}
    assert AgentChange(2, 7, "n", None, other).key == AgentKey(1, 1, 102)
