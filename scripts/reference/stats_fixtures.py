#!/usr/bin/env python3
"""Reference fixtures for the estimators of crates/analysis/src/stats/.

Each estimator gets one JSON file in crates/analysis/tests/fixtures/stats/ holding the
inputs AND the outputs of an independent implementation: scikit-learn (ROC curve, AUC),
a plain O(n_pos * n_neg) numpy DeLong variance written here, statsmodels (Wilson and
Clopper-Pearson intervals, Cohen's kappa) and lifelines (Kaplan-Meier, its median and
median interval, the log-rank tests). The Rust tests (crates/analysis/tests/stats.rs)
read the JSON, so running them needs no Python.

Rerun (from the repository root) after changing a case:

    python3 -m venv /tmp/venv-stats
    /tmp/venv-stats/bin/pip install numpy scipy scikit-learn statsmodels lifelines pandas
    /tmp/venv-stats/bin/python scripts/reference/stats_fixtures.py

Written with numpy 2.4, scipy 1.17, scikit-learn 1.9, statsmodels 0.15, lifelines 0.30.
JSON conventions: `null` stands for "not reached" (lifelines' inf) or "not estimable";
a case with `"not_estimable": true` must be refused by the Rust code.
"""

import json
import math
import warnings
from pathlib import Path

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import median_survival_times
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

OUT = Path(__file__).resolve().parents[2] / "crates/analysis/tests/fixtures/stats"
SEED = 20261205
warnings.filterwarnings("ignore")


def num(x):
    """A float for JSON: inf and nan become null."""
    x = float(x)
    return None if math.isinf(x) or math.isnan(x) else x


def write(name, cases):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"generator": "scripts/reference/stats_fixtures.py", "cases": cases}, indent=1) + "\n")
    print(f"{path}: {len(cases)} cases")


# ---------------------------------------------------------------- proportions


def proportion_cases():
    cases = []
    for x, n, level in [(0, 10, 0.95), (10, 10, 0.95), (8, 10, 0.95), (1, 1, 0.95), (0, 1, 0.95),
                        (17, 40, 0.95), (23, 25, 0.90), (3, 250, 0.99), (1, 2, 0.95)]:
        w = proportion_confint(x, n, alpha=1 - level, method="wilson")
        b = proportion_confint(x, n, alpha=1 - level, method="beta")
        cases.append({"name": f"{x}/{n} at {level}", "successes": x, "n": n, "level": level,
                      "estimate": x / n, "wilson": [num(w[0]), num(w[1])],
                      "clopper_pearson": [num(b[0]), num(b[1])]})
    for x, n in [(0, 0), (5, 4)]:
        cases.append({"name": f"{x}/{n} impossible", "successes": x, "n": n, "level": 0.95,
                      "not_estimable": True})
    return cases


# ---------------------------------------------------------------- ROC


def delong_reference(pos, neg):
    """DeLong et al. 1988 written out: the Heaviside kernel psi over every pair, structural
    components V10 (per positive) and V01 (per negative), sample variances with ddof 1."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    psi = np.zeros((len(pos), len(neg)))
    for i, x in enumerate(pos):
        for j, y in enumerate(neg):
            psi[i, j] = 1.0 if x > y else (0.5 if x == y else 0.0)
    auc = psi.mean()
    if len(pos) < 2 or len(neg) < 2:
        return auc, None
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    var = np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg)
    return auc, math.sqrt(var)


def logit_ci(auc, se, level):
    if se is None or se == 0 or auc <= 0 or auc >= 1:
        return None
    z = norm.ppf(1 - (1 - level) / 2)
    centre = math.log(auc / (1 - auc))
    half = z * se / (auc * (1 - auc))
    expit = lambda v: 1 / (1 + math.exp(-v))
    return [expit(centre - half), expit(centre + half)]


def at_threshold_reference(pos, neg, t, level):
    tp = int(sum(1 for v in pos if v >= t))
    tn = int(sum(1 for v in neg if v < t))
    out = {"threshold": t, "tp": tp, "fn": len(pos) - tp, "tn": tn, "fp": len(neg) - tn}
    for key, x, n in [("sensitivity", tp, len(pos)), ("specificity", tn, len(neg))]:
        if n == 0:
            out[key] = None
        else:
            w = proportion_confint(x, n, alpha=1 - level, method="wilson")
            b = proportion_confint(x, n, alpha=1 - level, method="beta")
            out[key] = {"estimate": x / n, "wilson": [w[0], w[1]], "clopper_pearson": [b[0], b[1]]}
    return out


def roc_case(name, pos, neg, level=0.95):
    pos, neg = [float(v) for v in pos], [float(v) for v in neg]
    case = {"name": name, "positives": pos, "negatives": neg, "level": level}
    if not pos or not neg:
        case["not_estimable"] = True
        return case
    y = [1] * len(pos) + [0] * len(neg)
    s = pos + neg
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    auc = roc_auc_score(y, s)
    auc_ref, se = delong_reference(pos, neg)
    assert abs(auc - auc_ref) < 1e-12, (auc, auc_ref)
    # Youden: the first (highest) observed threshold with the largest tpr - fpr, counted in
    # integers so that ties are exact.
    score = [round(t * len(pos)) * len(neg) + round((1 - f) * len(neg)) * len(pos) for t, f in zip(tpr, fpr)]
    best = max(range(1, len(thr)), key=lambda i: (score[i], -i))
    case.update({
        "auc": auc, "se": se, "ci": logit_ci(auc, se, level),
        # thresholds[0] is sklearn's inf (the curve's start at (0, 0)): written as null.
        "thresholds": [num(t) for t in thr], "fpr": list(fpr), "tpr": list(tpr),
        "youden": {"threshold": float(thr[best]), "sensitivity": float(tpr[best]),
                   "specificity": float(1 - fpr[best])},
        "at_youden": at_threshold_reference(pos, neg, float(thr[best]), level),
    })
    return case


def roc_cases():
    rng = np.random.default_rng(SEED)
    # SUVmax of 40 HER2-positive and 25 HER2-negative lesions, log-normal, to 0.1 like a
    # report gives them (so ties happen within and between groups).
    pos = np.round(rng.lognormal(math.log(7.0), 0.5, 40), 1)
    neg = np.round(rng.lognormal(math.log(4.0), 0.5, 25), 1)
    return [
        roc_case("trial-sized SUVmax 40 vs 25", pos, neg),
        roc_case("trial-sized at 90%", pos, neg, 0.90),
        roc_case("ties within and between groups", [3, 3, 5, 7, 7, 2], [3, 1, 1, 5, 2]),
        roc_case("perfect separation", [5, 6, 7], [1, 2, 3]),
        roc_case("reversed separation", [1, 2], [5, 6, 7]),
        roc_case("all values tied", [2, 2], [2, 2, 2]),
        roc_case("one positive", [4], [1, 5, 3]),
        roc_case("youden tie", [3, 1], [2, 0]),
        roc_case("no negatives", [1, 2, 3], []),
        roc_case("no positives", [], [1, 2]),
    ]


# ---------------------------------------------------------------- kappa


def kappa_cases():
    cases = []
    for name, table, level in [("moderate agreement at 90%", [[20, 5], [10, 15]], 0.90)] + [
                        (name, table, 0.95) for name, table in [
                        ("moderate agreement", [[20, 5], [10, 15]]),
                        ("trial-sized PET vs biopsy", [[21, 4], [6, 34]]),
                        ("perfect agreement", [[7, 0], [0, 5]]),
                        ("zero margin: rater b never positive", [[5, 0], [3, 0]]),
                        ("zero margin: rater a never negative", [[0, 0], [4, 9]]),
                        ("worse than chance", [[1, 6], [5, 2]]),
                        ("one participant agreeing", [[0, 0], [0, 1]]),
                        ("one class throughout", [[9, 0], [0, 0]]),
                        ("empty", [[0, 0], [0, 0]])]]:
        case = {"name": name, "table": table, "level": level}
        n = sum(map(sum, table))
        rows = [sum(r) / n for r in table] if n else []
        cols = [(table[0][j] + table[1][j]) / n for j in range(2)] if n else []
        if n == 0 or abs(sum(r * c for r, c in zip(rows, cols)) - 1) < 1e-12:
            case["not_estimable"] = True
        else:
            r = cohens_kappa(np.asarray(table, float))
            se = r["std_kappa"]
            if level == 0.95:
                ci = [num(r["kappa_low"]), num(r["kappa_upp"])]
            else:
                # statsmodels' results fix alpha at 0.05; other levels from its std_kappa.
                z = norm.isf((1 - level) / 2)
                ci = [r["kappa"] - z * se, r["kappa"] + z * se]
            case.update({"kappa": r["kappa"], "se": 0.0 if math.isnan(se) else se, "ci": ci,
                         "observed_agreement": (table[0][0] + table[1][1]) / n,
                         "expected_agreement": sum(r_ * c for r_, c in zip(rows, cols))})
            if math.isnan(se):
                # sqrt of a variance that is 0 up to rounding: the Rust code reports 0.
                case["ci"] = [r["kappa"], r["kappa"]]
        cases.append(case)
    return cases


# ---------------------------------------------------------------- survival


def km_case(name, times, events, level=0.95):
    case = {"name": name, "times": [float(t) for t in times], "events": [bool(e) for e in events],
            "level": level}
    if len(times) == 0:
        case["not_estimable"] = True
        return case
    kmf = KaplanMeierFitter().fit(times, event_observed=events, alpha=1 - level)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    table = kmf.event_table
    med_ci = median_survival_times(ci)
    case.update({
        "timeline": [float(t) for t in sf.index],
        "survival": [float(v) for v in sf.values],
        "lower": [float(v) for v in ci.iloc[:, 0].values],
        "upper": [float(v) for v in ci.iloc[:, 1].values],
        "at_risk": [int(table.loc[t, "at_risk"]) for t in sf.index],
        "observed": [int(table.loc[t, "observed"]) for t in sf.index],
        "censored": [int(table.loc[t, "censored"]) for t in sf.index],
        "median": num(kmf.median_survival_time_),
        "median_ci": [num(med_ci.iloc[0, 0]), num(med_ci.iloc[0, 1])],
    })
    return case


def pfs(rng, n, median_days, follow_up_days):
    """PFS-like data: exponential event times, censored at a uniform administrative cut."""
    event_time = np.round(rng.exponential(median_days / math.log(2), n))
    cut = np.round(rng.uniform(0.3, 1.0, n) * follow_up_days)
    return np.minimum(event_time, cut), event_time <= cut


def km_cases():
    rng = np.random.default_rng(SEED + 1)
    t, e = pfs(rng, 35, 240, 720)
    return [
        km_case("trial-sized PFS 35", t, e),
        km_case("trial-sized PFS 35 at 90%", t, e, 0.90),
        km_case("event and censoring at the same time", [2, 2, 2, 3, 5, 5, 8], [1, 0, 1, 1, 0, 1, 0]),
        km_case("exactly one half on a stretch", [1, 2, 3, 4], [1, 1, 1, 1]),
        km_case("median not reached", [3, 5, 6, 9, 12], [1, 0, 0, 1, 0]),
        km_case("last at risk dies", [1, 2, 2, 4, 6], [0, 1, 0, 1, 1]),
        km_case("no events", [4, 7, 9], [0, 0, 0]),
        km_case("one participant with event", [5], [1]),
        km_case("one participant censored", [5], [0]),
        km_case("event at time 0", [0, 0, 3, 4], [1, 0, 1, 0]),
        km_case("empty", [], []),
    ]


def expected_events(groups):
    """Expected events per group under equal hazards, written out plainly."""
    all_t = sorted({t for g in groups for t, e in zip(*g) if e})
    exp = [0.0] * len(groups)
    for t in all_t:
        n_g = [sum(1 for x in g[0] if x >= t) for g in groups]
        d = sum(1 for g in groups for x, e in zip(*g) if e and x == t)
        for i in range(len(groups)):
            exp[i] += n_g[i] * d / sum(n_g)
    return exp


def logrank_case(name, groups, not_estimable=False):
    groups = [([float(t) for t in ts], [bool(e) for e in es]) for ts, es in groups]
    case = {"name": name, "groups": [{"times": ts, "events": es} for ts, es in groups]}
    if not_estimable:
        case["not_estimable"] = True
        return case
    if len(groups) == 2:
        (ta, ea), (tb, eb) = groups
        r = logrank_test(ta, tb, event_observed_A=ea, event_observed_B=eb)
    else:
        t = [x for g in groups for x in g[0]]
        e = [x for g in groups for x in g[1]]
        g = [i for i, grp in enumerate(groups) for _ in grp[0]]
        r = multivariate_logrank_test(t, g, e)
    case.update({"chi_squared": float(r.test_statistic), "p_value": float(r.p_value),
                 "degrees_of_freedom": len(groups) - 1,
                 "observed": [float(sum(es)) for _, es in groups],
                 "expected": expected_events(groups)})
    return case


def logrank_cases():
    rng = np.random.default_rng(SEED + 2)
    a = pfs(rng, 18, 300, 720)
    b = pfs(rng, 17, 150, 720)
    c = pfs(rng, 12, 220, 720)
    tie = ([2, 2, 3, 5, 5, 8], [1, 0, 1, 1, 0, 0])
    return [
        logrank_case("trial-sized PFS 18 vs 17", [a, b]),
        logrank_case("three groups", [a, b, c]),
        logrank_case("ties across groups, censoring at event times", [tie, ([2, 3, 3, 5, 7], [1, 1, 0, 1, 1])]),
        logrank_case("a group with no events", [([1, 4, 6, 9], [1, 1, 0, 1]), ([3, 5, 8], [0, 0, 0])]),
        logrank_case("a group of one", [([1, 4, 6, 9], [1, 1, 0, 1]), ([5], [1])]),
        logrank_case("identical groups", [([1, 2, 3], [1, 1, 0]), ([1, 2, 3], [1, 1, 0])]),
        logrank_case("no events at all", [([1, 2], [0, 0]), ([3], [0])], not_estimable=True),
        logrank_case("only one group", [([1, 2], [1, 1])], not_estimable=True),
        logrank_case("one group empty", [([1, 2], [1, 1]), ([], [])], not_estimable=True),
        logrank_case("never both at risk at an event", [([1, 2], [1, 1]), ([0.5], [0])], not_estimable=True),
    ]


if __name__ == "__main__":
    write("proportion", proportion_cases())
    write("roc", roc_cases())
    write("kappa", kappa_cases())
    write("kaplan_meier", km_cases())
    write("logrank", logrank_cases())
