"""Scoring candidates: a linear ranker with prior weights, fittable, and the tier policy.

Only the ranker learns. It follows scikit-learn's estimator contract: parameters in
``__init__``, ``fit`` returns self, learned state ends in ``_``. Unfitted, the score is the
weighted mean of the features with the prior weights (so it stays in [0, 1]); fitted, it is
a logistic model on the same features whose coefficients are shrunk toward the priors
(few labels cannot wreck it). Missing evidence (NaN) takes a per-feature neutral value,
so it moves every candidate of a line alike and the explanation says "missing".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from matching.config import DEFAULT_WEIGHTS, MatchConfig

NEUTRAL: Mapping[str, float] = {
    "activity": 0.5,
    "lexical": 0.0,
    "text": 0.0,
    "products": 0.3,
    "proximity": 0.5,
    "size": 0.4,
    "same_region": 0.5,
}
PRIOR_SCALE = 8.0  # prior weights (summing to 1) → logit coefficients; score 0.5 at a weighted mean of 0.5


class LinearRanker(BaseEstimator):
    """Weighted features → a score in [0, 1], with per-feature contributions.

    ``weights``: prior weight per feature (default ``DEFAULT_WEIGHTS``);
    ``prior_strength``: how many labelled pairs the prior is worth when fitting.
    """

    def __init__(self, weights: Mapping[str, float] | None = None, prior_strength: float = 200.0) -> None:
        self.weights = weights
        self.prior_strength = prior_strength

    # -- state ------------------------------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(dict(self.weights or DEFAULT_WEIGHTS))

    def _prior(self) -> np.ndarray:
        w = dict(self.weights or DEFAULT_WEIGHTS)
        v = np.array([float(w[k]) for k in self.feature_names])
        return v / v.sum()

    def _matrix(self, X: pd.DataFrame) -> np.ndarray:
        cols = []
        for k in self.feature_names:
            col = X[k].to_numpy(dtype=float) if k in X.columns else np.full(len(X), np.nan)
            cols.append(np.where(np.isnan(col), NEUTRAL.get(k, 0.5), col))
        return np.column_stack(cols) if cols else np.zeros((len(X), 0))

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "coef_")

    # -- estimator contract -----------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: np.ndarray | pd.Series) -> LinearRanker:
        """Fit from labelled pairs (y = 1 relevant supplier, 0 not), shrunk toward the priors."""
        from sklearn.linear_model import LogisticRegression

        M = self._matrix(X)
        yy = np.asarray(y, dtype=int)
        prior_coef = self._prior() * PRIOR_SCALE
        prior_icpt = -PRIOR_SCALE / 2
        if len(np.unique(yy)) < 2:
            coef, icpt, n = prior_coef, prior_icpt, 0
        else:
            lr = LogisticRegression(C=1.0, max_iter=1000).fit(M, yy)
            coef, icpt, n = lr.coef_[0], float(lr.intercept_[0]), len(yy)
        k = float(self.prior_strength)
        self.coef_ = (n * coef + k * prior_coef) / (n + k)
        self.intercept_ = (n * icpt + k * prior_icpt) / (n + k)
        self.n_samples_seen_ = n
        self.feature_names_in_ = np.array(self.feature_names, dtype=object)
        return self

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contribution to each score (same index as ``X``)."""
        M = self._matrix(X)
        w = self.coef_ if self.is_fitted else self._prior()
        return pd.DataFrame(M * w, index=X.index, columns=list(self.feature_names))

    def predict_score(self, X: pd.DataFrame) -> np.ndarray:
        """Scores in [0, 1], one per row of ``X``."""
        c = self.contributions(X).to_numpy().sum(axis=1)
        if self.is_fitted:
            c = 1.0 / (1.0 + np.exp(-(c + self.intercept_)))
        return np.clip(c, 0.0, 1.0)

    def to_dict(self) -> dict:
        d: dict = {"prior": dict(zip(self.feature_names, self._prior().round(4).tolist(), strict=True))}
        if self.is_fitted:
            d["coef"] = dict(zip(self.feature_names, np.round(self.coef_, 4).tolist(), strict=True))
            d["intercept"] = round(float(self.intercept_), 4)
            d["n_samples_seen"] = int(self.n_samples_seen_)
        return d


def tier_order(scores: np.ndarray, regional: np.ndarray, config: MatchConfig) -> np.ndarray:
    """Display order of candidates under the tier policy (indices into ``scores``).

    - ``none``: pure score order.
    - ``boost``: order by score + ``boost`` for the chosen région.
    - ``regional-first``: establishments of the région whose score is within ``regional_margin``
      of the best national one come first (by score), then everything else by score.
    """
    scores = np.asarray(scores, dtype=float)
    regional = np.asarray(regional, dtype=bool)
    idx = np.arange(len(scores))
    if config.tier_policy == "none" or len(scores) == 0:
        return idx[np.lexsort((idx, -scores))]
    if config.tier_policy == "boost":
        adj = scores + config.boost * regional
        return idx[np.lexsort((idx, -adj))]
    national = scores[~regional]
    best_nat = national.max() if len(national) else -np.inf
    front = regional & (scores >= best_nat - config.regional_margin)
    return idx[np.lexsort((idx, -scores, ~front))]
