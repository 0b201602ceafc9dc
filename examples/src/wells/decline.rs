//! Arps decline curves fitted by least squares, and their forecasts. Pure: no I/O, no
//! phlo types, so it is tested on synthetic series alone.
//!
//! Two models of a well's rate `q` at `t` days after the first day of the fit:
//!
//! - exponential: `q = qi · e^(−D·t)`;
//! - hyperbolic: `q = qi / (1 + b·D·t)^(1/b)`, `0 < b ≤ 1` (as `b → 0` it becomes the
//!   exponential).
//!
//! Each is fitted by least squares on the rates themselves (not their logarithms, which
//! would overweight the low late rates). The fit is a *variable projection*: for fixed
//! `D` (and `b`) the model is linear in `qi`, whose best value is closed-form,
//! `qi = Σ q·f / Σ f²` with `f` the model at `qi = 1`. What remains is a search over
//! `ln D` (and `b`): a coarse grid around the log-linearised start, narrowed by
//! golden-section search. No derivatives, no step sizes to tune, the bound on `b` holds by
//! construction, and the result is the same on every machine. [`fit`] fits both models and
//! keeps the one with the smaller residual once each parameter is paid for (the Bayesian
//! information criterion, `n·ln(SSE/n) + p·ln n`): the hyperbolic nests the exponential
//! (`b → 0`), so on noisy exponential data its extra parameter always buys a slightly
//! smaller residual, and must buy more than `ln n` to be chosen. A tie goes to the
//! exponential.
//!
//! Degenerate series are outcomes, not errors: too few points, no production, or a series
//! that does not decline (see [`Outcome`]).

/// Which Arps curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// `q = qi · e^(−D·t)`.
    Exponential,
    /// `q = qi / (1 + b·D·t)^(1/b)`.
    Hyperbolic,
}

impl Model {
    /// `exponential` or `hyperbolic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Exponential => "exponential",
            Model::Hyperbolic => "hyperbolic",
        }
    }
}

/// A fitted curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The curve.
    pub model: Model,
    /// Initial rate, at `t = 0`.
    pub qi: f64,
    /// Initial decline, per day.
    pub d: f64,
    /// Hyperbolic exponent (`0` for the exponential).
    pub b: f64,
    /// Sum of squared residuals.
    pub sse: f64,
    /// Root mean square residual, `√(SSE / n)`.
    pub rmse: f64,
    /// Points fitted.
    pub points: usize,
}

impl Fit {
    /// The curve's rate at `t` days.
    pub fn rate(&self, t: f64) -> f64 {
        self.qi * shape(self.model, self.d, self.b, t)
    }

    /// The Bayesian information criterion, `n·ln(SSE / n) + p·ln n`: the residual, with a
    /// price for each parameter (smaller is better).
    pub fn bic(&self) -> f64 {
        let n = self.points as f64;
        let p = match self.model {
            Model::Exponential => 2.0,
            Model::Hyperbolic => 3.0,
        };
        // A perfect fit has no residual; keep the comparison finite.
        n * (self.sse / n).max(f64::MIN_POSITIVE).ln() + p * n.ln()
    }

    /// Daily rates for the `days` days after `last_t`: `t = last_t + 1, …, last_t + days`.
    pub fn forecast(&self, last_t: f64, days: usize) -> Vec<f64> {
        (1..=days).map(|k| self.rate(last_t + k as f64)).collect()
    }
}

/// The result of fitting one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// A curve was fitted.
    Fitted(Fit),
    /// Fewer usable points (finite `t`, positive finite rate, distinct days) than a fit
    /// needs.
    TooFewPoints {
        /// Usable points.
        points: usize,
        /// Points needed.
        needed: usize,
    },
    /// No positive rate at all (a shut-in or dry well).
    NoProduction,
    /// The rates do not decline (their log-linear trend is flat or rising): no decline
    /// curve describes them.
    NotDeclining {
        /// The mean rate of the usable points.
        mean_rate: f64,
    },
}

impl Outcome {
    /// `fitted`, `too_few_points`, `no_production` or `not_declining`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Fitted(_) => "fitted",
            Outcome::TooFewPoints { .. } => "too_few_points",
            Outcome::NoProduction => "no_production",
            Outcome::NotDeclining { .. } => "not_declining",
        }
    }

    /// The fit, if any.
    pub fn fit(&self) -> Option<&Fit> {
        match self {
            Outcome::Fitted(f) => Some(f),
            _ => None,
        }
    }
}

/// Points an exponential fit needs.
pub const MIN_POINTS: usize = 3;
/// Points a hyperbolic fit needs (with fewer, only the exponential is tried).
pub const MIN_POINTS_HYPERBOLIC: usize = 4;
/// The smallest `b` tried: below it the hyperbolic is the exponential to within rounding.
pub const B_MIN: f64 = 0.01;
/// The largest `b` (Arps' bound for boundary-dominated flow).
pub const B_MAX: f64 = 1.0;

/// `q / qi` of a curve.
fn shape(model: Model, d: f64, b: f64, t: f64) -> f64 {
    match model {
        Model::Exponential => (-d * t).exp(),
        Model::Hyperbolic => (1.0 + b * d * t).powf(-1.0 / b),
    }
}

/// The usable points: finite, positive rate, `t` finite; sorted by `t`.
fn usable(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut v: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, q)| t.is_finite() && q.is_finite() && *q > 0.0)
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn distinct_days(points: &[(f64, f64)]) -> usize {
    let mut n = 0;
    let mut last = None;
    for (t, _) in points {
        if last != Some(*t) {
            n += 1;
            last = Some(*t);
        }
    }
    n
}

/// Ordinary least squares of `ln q` on `t`: (slope, intercept).
fn log_linear(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let tm = points.iter().map(|p| p.0).sum::<f64>() / n;
    let ym = points.iter().map(|p| p.1.ln()).sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, q) in points {
        sxy += (t - tm) * (q.ln() - ym);
        sxx += (t - tm) * (t - tm);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (slope, ym - slope * tm)
}

/// For fixed `d` and `b`: the best `qi` and the sum of squared residuals.
fn profile(points: &[(f64, f64)], model: Model, d: f64, b: f64) -> (f64, f64) {
    let (mut qf, mut ff) = (0.0, 0.0);
    for (t, q) in points {
        let f = shape(model, d, b, *t);
        qf += q * f;
        ff += f * f;
    }
    if !ff.is_finite() || ff <= 0.0 {
        return (0.0, f64::INFINITY);
    }
    let qi = qf / ff;
    let sse = points
        .iter()
        .map(|(t, q)| {
            let r = q - qi * shape(model, d, b, *t);
            r * r
        })
        .sum::<f64>();
    (qi, if sse.is_finite() { sse } else { f64::INFINITY })
}

/// The minimum of `f` over `[lo, hi]`: a grid of `steps + 1` points, then golden-section
/// search between the best grid point's neighbours. Returns (x, f(x)).
fn minimize(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64, steps: usize) -> (f64, f64) {
    let h = (hi - lo) / steps as f64;
    let mut best = (lo, f(lo));
    for i in 1..=steps {
        let x = lo + h * i as f64;
        let y = f(x);
        if y < best.1 {
            best = (x, y);
        }
    }
    let (mut a, mut b) = ((best.0 - h).max(lo), (best.0 + h).min(hi));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let x = (a + b) / 2.0;
    let y = f(x);
    [best, (x, y), (c, fc), (d, fd)]
        .into_iter()
        .fold(best, |acc, p| if p.1 < acc.1 { p } else { acc })
}

/// The best `ln D` for fixed `b`, searched within ±`span` of `ln_d0`.
fn best_d(points: &[(f64, f64)], model: Model, b: f64, ln_d0: f64, span: f64) -> (f64, f64) {
    let sse = |ln_d: f64| profile(points, model, ln_d.exp(), b).1;
    minimize(&sse, ln_d0 - span, ln_d0 + span, 60)
}

fn finish(points: &[(f64, f64)], model: Model, d: f64, b: f64) -> Fit {
    let (qi, sse) = profile(points, model, d, b);
    Fit {
        model,
        qi,
        d,
        b,
        sse,
        rmse: (sse / points.len() as f64).sqrt(),
        points: points.len(),
    }
}

/// The search range of `ln D` either side of the log-linear start: `D` from 1/3000 to 3000
/// times the start.
const LN_D_SPAN: f64 = 8.0;

/// Fits `q = qi · e^(−D·t)` to `(t, q)` points.
pub fn fit_exponential(points: &[(f64, f64)]) -> Outcome {
    prepare(points, MIN_POINTS).map_or_else(
        |o| o,
        |(p, ln_d0)| {
            let (ln_d, _) = best_d(&p, Model::Exponential, 0.0, ln_d0, LN_D_SPAN);
            Outcome::Fitted(finish(&p, Model::Exponential, ln_d.exp(), 0.0))
        },
    )
}

/// Fits `q = qi / (1 + b·D·t)^(1/b)`, `B_MIN ≤ b ≤ B_MAX`, to `(t, q)` points.
pub fn fit_hyperbolic(points: &[(f64, f64)]) -> Outcome {
    prepare(points, MIN_POINTS_HYPERBOLIC).map_or_else(
        |o| o,
        |(p, ln_d0)| {
            let sse_at_b = |b: f64| best_d(&p, Model::Hyperbolic, b, ln_d0, LN_D_SPAN).1;
            let (b, _) = minimize(&sse_at_b, B_MIN, B_MAX, 20);
            let (ln_d, _) = best_d(&p, Model::Hyperbolic, b, ln_d0, LN_D_SPAN);
            Outcome::Fitted(finish(&p, Model::Hyperbolic, ln_d.exp(), b))
        },
    )
}

/// Fits both curves and keeps the one with the smaller [`Fit::bic`] (the exponential on a
/// tie, or when there are too few points for the hyperbolic).
pub fn fit(points: &[(f64, f64)]) -> Outcome {
    let exponential = fit_exponential(points);
    let Outcome::Fitted(e) = exponential else {
        return exponential;
    };
    match fit_hyperbolic(points) {
        Outcome::Fitted(h) if h.bic() < e.bic() => Outcome::Fitted(h),
        _ => exponential,
    }
}

/// The usable points and the log-linear start `ln D0`, or the degenerate outcome.
fn prepare(points: &[(f64, f64)], needed: usize) -> Result<(Vec<(f64, f64)>, f64), Outcome> {
    let any_rate = points
        .iter()
        .any(|(t, q)| t.is_finite() && q.is_finite() && *q > 0.0);
    if !any_rate {
        return Err(if points.len() < needed {
            Outcome::TooFewPoints { points: 0, needed }
        } else {
            Outcome::NoProduction
        });
    }
    let p = usable(points);
    let days = distinct_days(&p);
    if days < needed {
        return Err(Outcome::TooFewPoints {
            points: days,
            needed,
        });
    }
    let (slope, _) = log_linear(&p);
    if slope >= 0.0 {
        let mean_rate = p.iter().map(|x| x.1).sum::<f64>() / p.len() as f64;
        return Err(Outcome::NotDeclining { mean_rate });
    }
    Ok((p, (-slope).ln()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(days: usize, q: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        (0..days).map(|i| (i as f64, q(i as f64))).collect()
    }

    /// A deterministic ±`amplitude` multiplicative noise (the fixtures' LCG).
    fn noisy(points: &[(f64, f64)], amplitude: f64) -> Vec<(f64, f64)> {
        let mut state: u32 = 7;
        points
            .iter()
            .map(|(t, q)| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = f64::from(state) / 4_294_967_296.0;
                (*t, q * (1.0 + (u - 0.5) * 2.0 * amplitude))
            })
            .collect()
    }

    fn fitted(o: Outcome) -> Fit {
        match o {
            Outcome::Fitted(f) => f,
            other => panic!("expected a fit, got {other:?}"),
        }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn recovers_an_exponential_decline() {
        let points = series(120, |t| 1200.0 * (-0.008 * t).exp());
        let f = fitted(fit(&points));
        assert_eq!(f.model, Model::Exponential);
        assert!(close(f.qi, 1200.0, 1e-6), "{f:?}");
        assert!(close(f.d, 0.008, 1e-6), "{f:?}");
        assert!(f.rmse < 1e-3, "{f:?}");
        assert_eq!(f.points, 120);
    }

    #[test]
    fn recovers_a_hyperbolic_decline() {
        for (qi, d, b) in [
            (2000.0, 0.02, 0.6),
            (1500.0, 0.03, 0.9),
            (2500.0, 0.015, 0.3),
        ] {
            let points = series(120, |t| qi / (1.0 + b * d * t).powf(1.0 / b));
            let f = fitted(fit(&points));
            assert_eq!(f.model, Model::Hyperbolic, "{f:?}");
            assert!(close(f.qi, qi, 1e-4), "{f:?}");
            assert!(close(f.d, d, 1e-3), "{f:?}");
            assert!(close(f.b, b, 1e-3), "{f:?}");
        }
    }

    #[test]
    fn noisy_series_come_close_and_pick_their_curve() {
        let exp = noisy(&series(120, |t| 900.0 * (-0.004 * t).exp()), 0.02);
        let f = fitted(fit(&exp));
        // The hyperbolic's smaller residual does not pay for its extra parameter.
        assert_eq!(f.model, Model::Exponential, "{f:?}");
        assert!(close(f.qi, 900.0, 0.01) && close(f.d, 0.004, 0.05), "{f:?}");
        let h = fitted(fit_hyperbolic(&exp));
        assert!(h.sse < f.sse && h.bic() > f.bic(), "{h:?} {f:?}");
        let hyp = noisy(
            &series(120, |t| 2000.0 / (1.0 + 0.6 * 0.02 * t).powf(1.0 / 0.6)),
            0.02,
        );
        let f = fitted(fit(&hyp));
        assert_eq!(f.model, Model::Hyperbolic);
        assert!(close(f.qi, 2000.0, 0.02) && close(f.d, 0.02, 0.1), "{f:?}");
        assert!((f.b - 0.6).abs() < 0.15, "{f:?}");
    }

    #[test]
    fn shut_in_days_and_gaps_are_left_out_of_the_fit() {
        let mut points = series(60, |t| 700.0 * (-0.006 * t).exp());
        points[20].1 = 0.0; // shut in
        points.remove(30); // a missing day
        points.push((f64::NAN, 5.0));
        let f = fitted(fit(&points));
        assert_eq!(f.points, 58);
        assert!(close(f.qi, 700.0, 1e-6) && close(f.d, 0.006, 1e-6), "{f:?}");
    }

    #[test]
    fn forecasts_continue_the_curve() {
        let f = fitted(fit(&series(90, |t| 1000.0 * (-0.01 * t).exp())));
        let next = f.forecast(89.0, 30);
        assert_eq!(next.len(), 30);
        assert!(close(next[0], 1000.0 * (-0.9f64).exp(), 1e-6));
        assert!(close(next[29], 1000.0 * (-1.19f64).exp(), 1e-6));
        assert!(next.windows(2).all(|w| w[1] < w[0]));
        assert!(f.forecast(89.0, 0).is_empty());
    }

    #[test]
    fn degenerate_series_are_outcomes() {
        assert_eq!(
            fit(&[]),
            Outcome::TooFewPoints {
                points: 0,
                needed: MIN_POINTS
            }
        );
        assert_eq!(
            fit(&[(0.0, 500.0)]),
            Outcome::TooFewPoints {
                points: 1,
                needed: MIN_POINTS
            }
        );
        // The same day three times is one point.
        assert_eq!(
            fit(&[(4.0, 500.0), (4.0, 510.0), (4.0, 490.0)]),
            Outcome::TooFewPoints {
                points: 1,
                needed: MIN_POINTS
            }
        );
        assert_eq!(fit(&series(30, |_| 0.0)), Outcome::NoProduction);
        assert_eq!(
            fit(&series(30, |_| 250.0)),
            Outcome::NotDeclining { mean_rate: 250.0 }
        );
        assert!(matches!(
            fit(&series(30, |t| 100.0 + t)),
            Outcome::NotDeclining { .. }
        ));
        // Three points: an exponential, never a hyperbolic.
        let three = series(3, |t| 100.0 * (-0.1 * t).exp());
        assert_eq!(fitted(fit(&three)).model, Model::Exponential);
        assert!(matches!(
            fit_hyperbolic(&three),
            Outcome::TooFewPoints {
                points: 3,
                needed: 4
            }
        ));
        for o in [fit(&[]), Outcome::NoProduction] {
            assert!(o.fit().is_none());
        }
        assert_eq!(fit(&series(30, |_| 0.0)).status(), "no_production");
    }
}
