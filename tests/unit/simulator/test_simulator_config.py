"""The simulator's configuration: defaults from the figures, validation, documentation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ccms.simulator import SimulationConfig, config_help
from ccms.simulator.traffic import peak_hour

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "simulator.md"


def test_the_documented_defaults() -> None:
    config = SimulationConfig()
    assert (config.seed, config.agents, config.vdns, config.cc_id, config.skills) == (
        1,
        200,
        2,
        1,
        4,
    )
    assert config.call_rate is None
    assert config.start_ms == 1_767_225_600_000
    assert (config.handle_mean_s, config.wrap_mean_s) == (360.0, 45.0)  # figures §1, §2


def test_the_config_is_frozen() -> None:
    config = SimulationConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 2  # type: ignore[misc]


def test_every_field_has_help_and_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = config_help()
    assert list(table) == [f.name for f in dataclasses.fields(SimulationConfig)]
    for name, (default, help_text) in table.items():
        assert help_text.strip(), name
        assert f"`{name}`" in text, f"{name} is not documented in docs/simulator.md"
        assert default == getattr(SimulationConfig(), name)


def test_the_default_call_rate_offers_the_target_load_at_the_busy_hour() -> None:
    config = SimulationConfig()
    staffed = config.staffed_share_at(peak_hour() + 0.5)
    offered = config.peak_call_rate / staffed * config.voice_busy_s / 3600
    assert offered == pytest.approx(config.target_occupancy)
    assert 0.5 < staffed < 0.8
    assert SimulationConfig(call_rate=3.0).peak_call_rate == 3.0
    assert SimulationConfig(target_occupancy=0.4).peak_call_rate < config.peak_call_rate


def test_chats_carry_the_same_offered_load_per_agent_as_calls() -> None:
    config = SimulationConfig()
    assert config.chat_rate * config.chat_busy_s == pytest.approx(
        config.peak_call_rate * config.voice_busy_s
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("agents", 0),
        ("agents", True),
        ("vdns", 0),
        ("vdns", 100),
        ("cc_id", 65536),
        ("skills", 0),
        ("skills", 100),
        ("chat_queues", 4),
        ("seed", -1),
        ("call_rate", -1.0),
        ("handle_mean_s", 0.0),
        ("wrap_cv", float("nan")),
        ("no_answer_share", 1.5),
        ("shifts", ()),
        ("shifts", ((24.0, 1.0),)),
        ("shifts", ((8.0, 0.0),)),
        ("shift_hours", 20.0),
        ("study_s", (600.0, 300.0)),
        ("patience_cv", -0.1),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SimulationConfig(**{field: value})  # type: ignore[arg-type]


def test_more_agents_than_work_numbers_is_refused() -> None:
    with pytest.raises(ValueError, match="agents"):
        SimulationConfig(agents=59_900, vdns=1)
    assert SimulationConfig(agents=59_899, vdns=1).agents == 59_899
