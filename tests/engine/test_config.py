import pytest

from matching.config import MatchConfig
from matching.errors import ConfigError


def test_defaults_are_grand_est_regional_first_top_10():
    c = MatchConfig()
    assert (c.region, c.tier_policy, c.top_n, c.include_wholesale) == ("44", "regional-first", 10, False)
    assert abs(sum(c.weights.values()) - 1.0) < 1e-9


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"top_n": 0}, "top_n"),
        ({"tier_policy": "local"}, "tier_policy"),
        ({"region": "99"}, "region"),
        ({"regional_margin": 1.5}, "regional_margin"),
        ({"weights": {"colour": 0.3}}, "colour"),
        ({"weights": {"activity": -1}}, "activity"),
        ({"lang": "de"}, "lang"),
    ],
)
def test_bad_values_fail_at_construction_naming_the_field(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        MatchConfig(**kwargs)


def test_several_problems_are_reported_together():
    with pytest.raises(ConfigError) as e:
        MatchConfig(top_n=-1, tier_policy="x")
    assert "top_n" in str(e.value) and "tier_policy" in str(e.value)


def test_with_copies_and_revalidates():
    c = MatchConfig().with_(region="11", top_n=3)
    assert (c.region, c.top_n) == ("11", 3)
    with pytest.raises(ConfigError):
        c.with_(top_n=0)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        MatchConfig().top_n = 5  # type: ignore[misc]
