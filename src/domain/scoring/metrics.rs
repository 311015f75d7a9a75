//! How well predicted win probabilities matched outcomes on the hold-out.
use serde::{Deserialize, Serialize};

/// Probabilities are kept this far from 0 and 1 in the log loss, so one confident miss
/// is costly but finite.
const CLIP: f64 = 1e-6;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Metrics {
    /// Area under the ROC curve: the chance a won deal is scored above a lost one.
    pub auc: f64,
    /// Mean negative log-likelihood of the outcomes (lower is better).
    pub log_loss: f64,
    /// By tenth of the predictions, lowest first.
    pub calibration: Vec<Decile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Decile {
    pub deals: usize,
    /// Mean predicted probability.
    pub predicted: f64,
    /// Share actually won.
    pub won: f64,
}

/// The metrics of `predicted` (probabilities) against `won`, pair by pair.
pub fn measure(predicted: &[f64], won: &[bool]) -> Metrics {
    Metrics {
        auc: auc(predicted, won),
        log_loss: log_loss(predicted, won),
        calibration: calibration(predicted, won),
    }
}

/// Mann–Whitney: the share of (won, lost) pairs the won one is scored above, ties
/// counting half. 0.5 when either class is absent.
pub fn auc(predicted: &[f64], won: &[bool]) -> f64 {
    let mut order: Vec<(f64, bool)> = predicted.iter().copied().zip(won.iter().copied()).collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = won.iter().filter(|w| **w).count() as f64;
    let negatives = won.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    // Ranks from 1, ties sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && order[j + 1].0 == order[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * order[i..=j].iter().filter(|(_, w)| *w).count() as f64;
        i = j + 1;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

pub fn log_loss(predicted: &[f64], won: &[bool]) -> f64 {
    if predicted.is_empty() {
        return 0.0;
    }
    let sum: f64 = predicted
        .iter()
        .zip(won)
        .map(|(p, w)| {
            let p = p.clamp(CLIP, 1.0 - CLIP);
            if *w { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    sum / predicted.len() as f64
}

fn calibration(predicted: &[f64], won: &[bool]) -> Vec<Decile> {
    let mut order: Vec<(f64, bool)> = predicted.iter().copied().zip(won.iter().copied()).collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = order.len();
    (0..10)
        .filter_map(|d| {
            let part = &order[d * n / 10..(d + 1) * n / 10];
            (!part.is_empty()).then(|| Decile {
                deals: part.len(),
                predicted: part.iter().map(|(p, _)| p).sum::<f64>() / part.len() as f64,
                won: part.iter().filter(|(_, w)| *w).count() as f64 / part.len() as f64,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_has_an_auc_of_one_and_a_reversed_one_zero() {
        let won = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &won), 1.0);
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &won), 0.0);
    }

    #[test]
    fn ties_count_half() {
        assert_eq!(auc(&[0.5, 0.5], &[false, true]), 0.5);
    }

    #[test]
    fn log_loss_of_a_coin_is_ln_two() {
        let l = log_loss(&[0.5, 0.5], &[true, false]);
        assert!((l - std::f64::consts::LN_2).abs() < 1e-12, "{l}");
    }

    #[test]
    fn calibration_has_ten_parts_of_a_hundred() {
        let p: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let w: Vec<bool> = (0..100).map(|i| i >= 50).collect();
        let c = calibration(&p, &w);
        assert_eq!(c.len(), 10);
        assert_eq!(c[0].won, 0.0);
        assert_eq!(c[9].won, 1.0);
    }
}
