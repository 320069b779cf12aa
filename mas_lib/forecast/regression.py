"""Count regression on the features of :mod:`mas_lib.forecast.features`: one GLM per series
(:class:`CountRegression`) or one shared by many series (:class:`PooledCountRegression`).

Paper 3.2.3 ("regression" among the forecasting models) on the features of 3.2.2; notebook 04.
Units/day throughout.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..validation import check_choice, check_whole
from .base import DEFAULT_QUANTILES, Forecast, Forecaster
from .features import _HOLIDAYS, make_features

__all__ = ["CountRegression", "PooledCountRegression"]

_FAMILIES = ("poisson", "negbin")


class CountRegression(Forecaster):
    """Poisson or negative-binomial regression (statsmodels GLM, log link) on the features.

    Paper 3.2.3 (regression models); notebook 04. Units/day.

    ``log E[y_t] = b . x_t`` with ``x_t`` = weekday dummies, trend, holiday flags,
    ``log(1 + rolling means)`` lagged by ``max_horizon`` days (direct multi-step: the same model
    serves every step up to ``max_horizon``) and price if given. Fitted on open days. The
    predictive distribution is Poisson, or negative binomial with ``alpha`` estimated from the
    Pearson residuals (``family="negbin"``); its quantiles come from the distribution's ppf.
    The mean is capped at twice the largest open day seen (a guard against extrapolation).
    Pass a DataFrame with ``units`` and ``price`` columns as ``exog``-carrying history via
    :meth:`fit_frame` to use prices.
    """

    def __init__(
        self, family: str = "negbin", max_horizon: int = 7, windows: Sequence[int] = (7, 28, 91)
    ):
        self.family = check_choice(family, "CountRegression.family", _FAMILIES)
        self.max_horizon = check_whole(max_horizon, "CountRegression.max_horizon", low=1, unit="days")
        self.windows = tuple(
            check_whole(w, f"CountRegression.windows[{i}]", low=1, unit="days")
            for i, w in enumerate(windows)
        )
        self.name = f"CountGLM({family})"
        self.price_ = None

    def fit_frame(self, frame: pd.DataFrame, calendar: pd.Series | None = None) -> CountRegression:
        """Fit on a DataFrame with ``units`` (units/day) and ``price`` (GBP/unit, a known future
        input) columns."""
        self.price_ = frame["price"].astype(float)
        return self.fit(frame["units"], calendar)

    def _design(self, index: pd.DatetimeIndex, units: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame({"units": units, "open": self._open_mask(index)}, index=index)
        if self.price_ is not None:
            frame["price"] = self.price_.reindex(index).ffill().to_numpy()
        feats = make_features(frame, min_lag=self.max_horizon, windows=self.windows)
        cols = [f"dow_{d}" for d in range(1, 7)] + ["trend"] + [f"holiday_{h}" for h in _HOLIDAYS]
        X = feats[cols].copy()
        for w in self.windows:
            X[f"log_rmean_{w}"] = np.log1p(feats[f"rmean_{w}"].fillna(0.0))
        if "price" in feats:
            X["price"] = feats["price"]
        X.insert(0, "const", 1.0)
        return X

    def _rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        """Training rows: design matrix and units/day on observed open days with lagged data."""
        X = self._design(self.index_, self.full_)
        ok = ~np.isnan(self.full_)
        ok[: min(len(ok) - 2, 7)] = False  # the first days have no lagged information
        return X[ok], self.full_[ok]

    def _fit(self) -> None:
        Xo, y = self._rows()
        self._set_fit(*_fit_glm(Xo, y, self.family))

    def _set_fit(self, columns: list[str], params: np.ndarray, alpha: float) -> None:
        self.columns_, self.params_, self.alpha_ = columns, params, alpha

    def _predict_days(self, index, is_open, qs):
        all_idx = self.index_.append(index)
        units = np.concatenate([self.full_, np.full(len(index), np.nan)])
        X = self._design(all_idx, units).iloc[len(self.index_) :]
        if len(index) > self.max_horizon:
            raise ValueError(
                f"{self.name} was built for up to {self.max_horizon} days ahead; asked {len(index)}"
            )
        eta = np.clip(X[self.columns_].to_numpy() @ self.params_, -20, 20)
        # guard against runaway extrapolation (trend, rare flags): at most 2x the largest day seen
        mu = np.minimum(np.exp(eta), 2.0 * float(np.max(self.y_)) + 1.0)
        if self.alpha_ > 0:
            n = 1.0 / self.alpha_
            qarr = stats.nbinom.ppf(np.asarray(qs)[None, :], n, (n / (n + mu))[:, None])
        else:
            qarr = stats.poisson.ppf(np.asarray(qs)[None, :], mu[:, None])
        mean = np.where(is_open, mu, 0.0)
        qarr = np.where(is_open[:, None], qarr, 0.0)
        return mean, qarr


def _fit_glm(Xo: pd.DataFrame, y: np.ndarray, family: str) -> tuple[list[str], np.ndarray, float]:
    """Poisson GLM fit (log link) + negative-binomial alpha from the Pearson residuals."""
    import statsmodels.api as sm

    keep = Xo.columns[(Xo.std(axis=0) > 0) | (Xo.columns == "const")]
    columns = list(keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, Xo[columns].to_numpy(), family=sm.families.Poisson()).fit()
    mu = np.clip(res.fittedvalues, 1e-9, None)
    alpha = 0.0
    if family == "negbin":
        alpha = float(max(1e-6, np.sum((y - mu) ** 2 - y) / np.sum(mu**2)))
    return columns, np.asarray(res.params), alpha


class PooledCountRegression:
    """A *global* count regression: one GLM fitted on the rows of many series at once.

    Paper 3.2.3 (regression models); notebook 04.

    Same features and predictive distribution as :class:`CountRegression`, but the
    coefficients (weekday profile, holiday lifts, how much the recent level matters) are
    shared by all series, which is far less noisy than fitting each short series alone. The
    level of each series enters through ``log(1 + rolling means)``, so series of different
    sizes can share one model. Use :meth:`fit_many`, then :meth:`predict_series`;
    :func:`mas_lib.forecast.backtest` does this once per origin for every model with
    ``pooled = True``. Units/day.
    """

    pooled = True

    def __init__(
        self, family: str = "negbin", max_horizon: int = 7, windows: Sequence[int] = (7, 28, 91)
    ):
        self.template = CountRegression(family, max_horizon, windows)
        self.family = family
        self.name = f"PooledGLM({family})"

    def fit_many(
        self,
        histories: Mapping[str, pd.Series],
        calendars: pd.Series | Mapping[str, pd.Series] | None = None,
    ) -> PooledCountRegression:
        """Fit one GLM on all ``histories`` (name -> daily units Series, same rules as ``fit``)."""
        self.members_: dict[str, CountRegression] = {}
        Xs, ys = [], []
        for key, h in histories.items():
            cal = calendars.get(key) if isinstance(calendars, Mapping) else calendars
            m = copy.deepcopy(self.template)
            m._prepare(h, cal)
            X, y = m._rows()
            Xs.append(X)
            ys.append(y)
            self.members_[key] = m
        if not Xs:
            raise ValueError(f"{self.name}: fit_many needs at least one series")
        fit = _fit_glm(pd.concat(Xs, ignore_index=True), np.concatenate(ys), self.family)
        for m in self.members_.values():
            m._set_fit(*fit)
        self.columns_, self.params_, self.alpha_ = fit
        return self

    def predict_series(
        self, key: str, horizon: int, quantiles: Sequence[float] = DEFAULT_QUANTILES
    ) -> Forecast:
        """Forecast series ``key`` (one of those passed to :meth:`fit_many`), units/day."""
        if key not in getattr(self, "members_", {}):
            raise KeyError(f"{self.name} was not fitted on a series named {key!r}")
        return self.members_[key].predict(horizon, quantiles)

    def __repr__(self) -> str:
        return self.name
