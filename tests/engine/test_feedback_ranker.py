"""Fitting the ranker from feedback, persisting it as JSON, and using the file (library, CLI, store)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from matching.config import MatchConfig
from matching.errors import ConfigError
from matching.feedback import feedback_pairs, fit_ranker_from_feedback
from matching.pipeline import Matcher
from matching.rank import PRIOR_SCALE, LinearRanker
from matching.types import BomLine

from .conftest import FakeClassifier

LINE = "Roulements à billes"
SKF, EST, NTN, DISTRI = "10000000000002", "10000000000001", "10000000000003", "10000000000008"
FEEDBACK = [  # the user prefers NTN (no words of the line in its name or products) over the lexical matches
    (LINE, NTN, "contracted"),
    (LINE, SKF, "not_relevant"),
    (LINE, EST, "not_relevant"),
    (LINE, "99999999999999", "relevant"),  # not in the catalog: no feature row, skipped
]


def _matcher(table, ranker=None):
    return Matcher(table, classifier=FakeClassifier(), ranker=ranker,
                   config=MatchConfig(tier_policy="none", diversify=False))


def _order(m):
    return [s.supplier.siret for s in m.match_one(BomLine(row=1, description=LINE)).suppliers]


def test_feedback_pairs_take_the_sirets_rows_and_count_the_skipped(table):
    X, y, report = feedback_pairs(_matcher(table), FEEDBACK + [(LINE, SKF, "maybe"), ("", SKF, "relevant")])
    assert y.tolist() == [1, 0, 0]
    assert [s for _, s in X.index] == [NTN, SKF, EST]
    assert report["pairs"] == 3 and report["positives"] == 1 and report["negatives"] == 2
    assert report["skipped"] == 3
    assert report["skipped_reasons"] == {"empty_line": 1, "not_in_candidates": 1, "unknown_label": 1}


def test_latest_judgement_of_a_pair_wins_and_no_candidate_line_is_skipped(table):
    fb = [(LINE, SKF, "relevant"), (LINE, SKF, "not_relevant"), ("xyzzy qwerty", SKF, "relevant")]
    _, y, report = feedback_pairs(_matcher(table), fb)
    assert y.tolist() == [0] and report["superseded"] == 1
    assert report["skipped_reasons"] == {"no_candidates": 1}


def test_feedback_moves_weights_toward_the_preferred_supplier_and_reorders_the_line(table):
    prior_m = _matcher(table)
    before = _order(prior_m)
    assert before.index(NTN) > before.index(SKF) and before.index(NTN) > before.index(EST)
    ranker, report = fit_ranker_from_feedback(prior_m, FEEDBACK, prior_strength=1.0)
    assert report["learned"] and report["skipped"] == 1
    prior = dict(zip(ranker.feature_names, ranker._prior() * PRIOR_SCALE, strict=True))
    coef = dict(zip(ranker.feature_names, ranker.coef_, strict=True))
    # NTN has none of the line's words: word evidence loses weight, the shared activity dominates
    assert coef["lexical"] < prior["lexical"] and coef["text"] < prior["text"]
    assert coef["activity"] > max(coef["lexical"], coef["text"])
    after = _order(_matcher(table, ranker))
    assert after[0] == NTN and after != before
    # with only one kind of label nothing is learned: the priors stay
    r2, rep2 = fit_ranker_from_feedback(prior_m, FEEDBACK[:1])
    assert not rep2["learned"] and r2.n_samples_seen_ == 0
    assert np.allclose(r2.coef_, r2._prior() * PRIOR_SCALE)


def test_json_round_trip_gives_identical_scores(table, tmp_path):
    ranker, _ = fit_ranker_from_feedback(_matcher(table), FEEDBACK, prior_strength=3.0)
    X, _, _ = feedback_pairs(_matcher(table), FEEDBACK)
    again = LinearRanker.from_json(ranker.to_json())
    assert np.array_equal(again.predict_score(X), ranker.predict_score(X))
    assert again.prior_strength == 3.0 and again.fit_info_ == ranker.fit_info_
    path = ranker.save(tmp_path / "r" / "ranker.json")
    loaded = LinearRanker.load(path)
    assert np.array_equal(loaded.predict_score(X), ranker.predict_score(X))
    d = loaded.to_dict()
    assert d["kind"] == "fitted" and d["file"] == str(path) and d["fitted_on"]["pairs"] == 3
    # an unfitted ranker round-trips as priors (custom weights kept)
    p = LinearRanker(weights={**dict(MatchConfig().weights), "size": 0.2})
    q = LinearRanker.from_json(p.to_json())
    assert not q.is_fitted and np.array_equal(q.predict_score(X), p.predict_score(X))


def test_bad_ranker_files_are_config_errors(tmp_path):
    bad = tmp_path / "bad.json"
    for text, msg in (("{", "invalid JSON"), ('{"a": 1}', "not a ranker file"),
                      ('{"format": "relocmatch-ranker", "weights": {"colour": 1}}', "unknown feature")):
        bad.write_text(text)
        with pytest.raises(ConfigError, match=msg):
            LinearRanker.load(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        LinearRanker.load(tmp_path / "missing.json")


def test_store_feedback_fit_via_cli_then_used_by_match(tmp_path, irep_catalog_dir, data_dir):
    """Feedback written through the service store, fitted by `ranker fit --feedback-db`, used by
    `match --ranker`: the result's engine block names the file and its counts."""
    from api.store import LOCAL_PRINCIPAL, Store
    from matching.cli import app

    text = "roulements à billes"
    m = Matcher.from_catalog(irep_catalog_dir, MatchConfig(semantic=False, top_n=6), data_dir=data_dir)
    sirets = [s.supplier.siret for s in m.search(text, top=6).suppliers]
    assert len(sirets) >= 3
    url = f"sqlite:///{tmp_path / 'svc.sqlite3'}"
    store = Store(url)
    store.create_all()
    store.record_feedback(LOCAL_PRINCIPAL, siret=sirets[-1], label="relevant", line_text=text)
    for s in sirets[:2]:
        store.record_feedback(LOCAL_PRINCIPAL, siret=s, label="not_relevant", line_text=text)
    store.record_feedback(LOCAL_PRINCIPAL, siret="00000000000000", label="relevant", line_text=text)
    store.dispose()

    runner = CliRunner()
    out = tmp_path / "ranker.json"
    r = runner.invoke(app, ["ranker", "fit", "--catalog", str(irep_catalog_dir), "--feedback-db", url,
                            "--out", str(out), "--no-semantic", "--prior-strength", "2", "--data", str(data_dir)])
    assert r.exit_code == 0, r.output
    assert "3 pairs (1 positive, 2 negative)" in r.output and "skipped 1 (not_in_candidates 1)" in r.output
    assert "activity" in r.output and out.is_file()
    saved = json.loads(out.read_text())
    assert saved["format"] == "relocmatch-ranker" and saved["fitted_on"]["source"] == "feedback"

    bom = tmp_path / "b.csv"
    bom.write_text("Désignation;Code douanier\nRoulements à billes;\n", encoding="utf-8")
    r = runner.invoke(app, ["match", str(bom), "--catalog", str(irep_catalog_dir), "--ranker", str(out),
                            "--no-semantic", "--format", "json", "--quiet", "--data", str(data_dir)])
    assert r.exit_code == 0, r.output
    eng = json.loads(r.output[r.output.index("{"):])["engine"]["ranker"]
    assert eng["kind"] == "fitted" and eng["file"] == str(out)
    assert eng["fitted_on"]["pairs"] == 3 and eng["fitted_on"]["skipped"] == 1

    r = runner.invoke(app, ["ranker", "fit", "--catalog", str(irep_catalog_dir), "--out", str(out)])
    assert r.exit_code == 1 and "exactly one of" in r.output
    r = runner.invoke(app, ["ranker", "fit", "--catalog", str(irep_catalog_dir), "--out", str(out),
                            "--feedback-db", f"sqlite:///{tmp_path / 'nope.sqlite3'}"])
    assert r.exit_code == 1 and "no service store at" in r.output


def test_service_loads_the_ranker_file_from_settings(tmp_path, irep_catalog_dir):
    """`serve --ranker` / RELOCMATCH_RANKER → Settings.ranker → the service's Matcher uses the file."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings

    path = LinearRanker(prior_strength=5.0).fit(
        *_pairs_for_service()).save(tmp_path / "ranker.json")
    assert Settings.from_env({"RELOCMATCH_RANKER": str(path)}).ranker == str(path)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", catalog=str(irep_catalog_dir),
                        semantic=False, auth="none", ranker=str(path))
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.post("/v1/match", json={"lines": [{"description": "roulements à billes"}], "top": 3})
        assert r.status_code == 200, r.text
        eng = r.json()["engine"]["ranker"]
    assert eng["kind"] == "fitted" and eng["file"] == str(path) and eng["fitted_on"]["pairs"] == 4


def _pairs_for_service():
    import pandas as pd

    names = list(LinearRanker().feature_names)
    X = pd.DataFrame([[0.9, 0, 0, 0.3, 0.5, 0.9, 0], [0.9, 1, 1, 1, 0.5, 0.4, 1],
                      [0.1, 1, 1, 0.3, 0.5, 0.4, 0], [0.8, 0, 0.2, 0.3, 0.5, 0.7, 0]], columns=names)
    return X, np.array([1, 0, 0, 1])
