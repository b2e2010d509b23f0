"""Model-based detection: the models, the false-alarm budget and the rules' evidence."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from scipy import special, stats

from ai_telemetry.alert import models
from ai_telemetry.alert.detect import DetectOptions, detect_anomalies, load_options
from ai_telemetry.errors import ConfigError

RULES_ONLY = DetectOptions(model=False)
LITERAL = DetectOptions(model=False, evidence=False)


def week(**metrics: Any) -> dict[str, Any]:
    """A metrics.json document holding ``metrics``."""
    return {"metrics": metrics}


@pytest.mark.parametrize(("a", "b", "x"), [(2, 3, 0.4), (0.5, 10, 0.01), (30, 40, 0.5)])
def test_betainc_matches_scipy(a: float, b: float, x: float) -> None:
    """The pure-Python incomplete beta agrees with scipy to 1e-10."""
    assert models.betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), abs=1e-10)


@pytest.mark.parametrize(("s", "x"), [(0.5, 0.1), (3, 2), (10, 15), (1.5, 30)])
def test_upper_gamma_matches_scipy(s: float, x: float) -> None:
    """The pure-Python upper incomplete gamma agrees with scipy."""
    assert models.gammainc_upper(s, x) == pytest.approx(special.gammaincc(s, x), abs=1e-10)


def test_t_and_f_tails_match_scipy() -> None:
    """Student t tail and quantile and the F tail agree with scipy."""
    assert models.t_sf(2.1, 5) == pytest.approx(stats.t.sf(2.1, 5), abs=1e-10)
    assert models.t_quantile(0.99, 7) == pytest.approx(stats.t.ppf(0.99, 7), abs=1e-8)
    assert models.f_sf(3.2, 2, 9) == pytest.approx(stats.f.sf(3.2, 2, 9), abs=1e-10)


def test_wilson_bounds_of_two_in_fifteen() -> None:
    """2 of 15 is 13%, but its one-sided 95% Wilson lower bound is under 5%."""
    low, high = models.wilson_bounds(2, 15, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.0452, 0.3336)


def test_budget_sets_the_tail_probability_from_the_series_count() -> None:
    """2 alarms a year over 10 series a week is 2 / 520; over 200 series 20 times smaller."""
    assert models.series_alpha(2, 10) == pytest.approx(2 / 520)
    assert models.series_alpha(2, 200) == pytest.approx(2 / 10400)


def test_rate_is_judged_with_its_count() -> None:
    """The same 20% error rate is unsurprising in 10 runs and alarming in 200 (3% normal)."""
    past = [(29.0, 30.0)] * 8 + [(28.0, 30.0)] * 4
    small = models.judge_rate(8, 10, past, side="down", alpha=0.001)
    large = models.judge_rate(160, 200, past, side="down", alpha=0.001)
    assert small.tail > 0.001 > large.tail
    assert large.low > 0.8  # the expected range is about the runs of this week


def test_count_scales_with_activity() -> None:
    """A holiday week with a third of the activity is expected to have a third of the count."""
    past = [10.0, 9.0, 11.0, 10.0, 12.0, 9.0, 10.0, 11.0]
    busy = [3000.0] * 8
    holiday = models.judge_count(3, past, side="down", alpha=0.001, exposure=1000, exposures=busy)
    plain = models.judge_count(3, past, side="down", alpha=0.001)
    assert holiday.tail > 0.1
    assert plain.tail < 0.02


def test_duration_is_judged_on_a_log_scale() -> None:
    """A +60% median duration is far out; the expected range brackets the usual values."""
    past = [240.0, 231.0, 252.0, 236.0, 247.0, 229.0, 244.0, 238.0]
    shift = models.judge_level(384.0, past, side="up", alpha=0.001, log=True)
    assert shift.model == "log-t"
    assert shift.tail < 1e-4
    assert shift.low < 229.0 < 252.0 < shift.high < 384.0


def test_profile_combines_two_moderate_shifts() -> None:
    """Two features each at a 2% tail are, together, beyond a 0.2% tail."""
    past = [[0.1 * i, -0.05 * i] for i in range(10)]
    together = models.judge_vector([0.02, 0.02], past, alpha=0.002)
    assert together is not None
    assert together.tail < 0.002
    good = models.judge_vector([0.98, 0.98], past, alpha=0.002)
    assert good is not None
    assert good.tail == 1.0  # better on both is no alarm


def skill_weeks(errors: list[int], runs: int = 30) -> list[dict[str, Any]]:
    """Weekly documents of one skill with ``errors`` errors of ``runs`` runs."""
    return [
        week(
            skill_success_rate={"s": (runs - e) / runs},
            skill_invocation_total={"s": float(runs)},
            skill_duration_seconds={"s": {"p50": 100.0 + (i % 3)}},
        )
        for i, e in enumerate(errors)
    ]


def test_model_alert_says_expected_range_seen_value_and_tail() -> None:
    """A model alert carries the expected range, the value seen and a tail probability."""
    history = skill_weeks([1, 0, 1, 2, 1, 0, 1, 1])
    [alert] = detect_anomalies(
        skill_weeks([15])[0], history=history, options=DetectOptions(rules=False)
    )
    assert (alert.metric, alert.detectors) == ("skill_success_rate", ("model",))
    assert alert.extra["model"] == "beta-binomial"
    assert alert.extra["tail_probability"] < alert.extra["alpha"]
    assert alert.extra["expected_low"] > 0.5
    assert alert.value == 0.5
    assert "expected" in alert.threshold_text and "P(this or worse)" in alert.analysis


def test_error_spike_needs_evidence() -> None:
    """2 errors in 15 runs (13%) is not an error spike with evidence; the literal rule fires."""
    current = week(skill_error_rate={"s": 2 / 15}, skill_invocation_total={"s": 15})
    assert detect_anomalies(current, options=RULES_ONLY) == []
    [alert] = detect_anomalies(current, options=LITERAL)
    assert alert.rule == "skill_error_spike"


def test_a_real_error_spike_has_the_evidence() -> None:
    """12 errors in 40 runs (30%) is above 10% at 99% confidence."""
    current = week(skill_error_rate={"s": 0.3}, skill_invocation_total={"s": 40})
    [alert] = detect_anomalies(current, options=RULES_ONLY)
    assert alert.rule == "skill_error_spike"
    assert detect_anomalies(current, options=replace(RULES_ONLY, rate_confidence=0.99)) != []


def test_a_small_error_spike_has_the_evidence_at_the_rate_confidence() -> None:
    """4 errors in 17 runs (24%): above 10% at 95% (bound 11%), not at 99% (bound 8%)."""
    current = week(skill_error_rate={"s": 4 / 17}, skill_invocation_total={"s": 17})
    [alert] = detect_anomalies(current, options=RULES_ONLY)
    assert alert.rule == "skill_error_spike"
    assert detect_anomalies(current, options=replace(RULES_ONLY, rate_confidence=0.99)) == []


def test_incident_repeat_of_a_common_cause_is_not_evidence() -> None:
    """3 incidents of a cause that has 2-3 every 28 days is its usual rate, not a repeat."""
    usual = [{"race": 2}, {"race": 3}, {"race": 2}, {"race": 3}, {"race": 2}]
    assert (
        detect_anomalies(
            week(), options=RULES_ONLY, root_causes={"race": 3}, root_cause_history=usual
        )
        == []
    )
    [alert] = detect_anomalies(
        week(),
        options=RULES_ONLY,
        root_causes={"race": 3, "timezone": 3},
        root_cause_history=usual,
    )
    assert (alert.rule, alert.key) == ("incident_repeat", "timezone")


def test_learning_stall_needs_a_team_that_logs_learnings() -> None:
    """Two empty weeks are a stall after weeks of 9-12 learnings, not after weeks of 0-1."""
    busy = [week(learning_entries_per_week=v) for v in (9.0, 12.0, 10.0, 11.0)]
    quiet = [week(learning_entries_per_week=v) for v in (1.0, None, 1.0, None)]
    empty = week()
    stall = detect_anomalies(empty, history=[*busy, empty], options=RULES_ONLY)
    assert [a.rule for a in stall] == ["learning_stall"]
    assert detect_anomalies(empty, history=[*quiet, empty], options=RULES_ONLY) == []
    assert detect_anomalies(empty, history=[*quiet, empty], options=LITERAL) != []


def test_detect_section_reads_the_new_keys() -> None:
    """[detect] false_alarms_per_year, evidence, confidence and model are read."""
    options = load_options(
        {
            "false_alarms_per_year": 4,
            "evidence": False,
            "confidence": 0.95,
            "rate_confidence": 0.9,
            "model": False,
        }
    )
    assert (
        options.false_alarms_per_year,
        options.evidence,
        options.confidence,
        options.rate_confidence,
    ) == (4.0, False, 0.95, 0.9)
    assert options.model is False


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"false_alarms_per_year": 0}, "alarms a year"),
        ({"confidence": 1.5}, "between 0.5 and 1"),
        ({"rate_confidence": 0.2}, "between 0.5 and 1"),
        ({"evidence": "no"}, "true or false"),
    ],
)
def test_bad_new_detect_keys_say_what_is_wrong(section: dict[str, Any], message: str) -> None:
    """A wrong value of a new [detect] key is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=message):
        load_options(section)


def test_defaults_are_rules_with_evidence_and_models() -> None:
    """The default detection is the rules with evidence and the models; z-score and SPC off."""
    options = DetectOptions()
    assert (options.rules, options.evidence, options.model) == (True, True, True)
    assert (options.zscore, options.spc) == (False, False)
    assert (options.false_alarms_per_year, options.confidence) == (2.0, 0.99)
    assert options.rate_confidence == 0.95
    assert math.isclose(models.series_alpha(options.false_alarms_per_year, 52), 2 / 2704)
