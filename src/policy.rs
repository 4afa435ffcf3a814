//! How a client worker picks the next behaviour from a weighted mix.
//!
//! The seed's two policies: `Random` (weighted, here seeded so a run can be
//! replayed) and `Repeat` (the weighted list in order, round robin, each
//! worker starting at its own offset so workers do not march in step).

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which policy a test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Weighted random choice, seeded.
    Random,
    /// The weighted list in order, round robin, per-worker offset.
    Repeat,
}

/// A running policy for one worker: yields indexes into the mix.
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    /// Weighted random choice from a per-worker stream of one seeded RNG.
    Random {
        /// The worker's RNG.
        rng: Box<ChaCha8Rng>,
        /// Distribution over mix indexes.
        weights: WeightedIndex<u32>,
    },
    /// Round robin over the mix expanded by weight.
    Repeat {
        /// Mix indexes, each repeated by its weight.
        order: Vec<usize>,
        /// Position of the next pick in `order`.
        next: usize,
    },
}

impl Policy {
    /// The policy for worker `worker` of `workers`, over a mix with these
    /// weights. Weights must not be all zero (the scenario checks this).
    pub(crate) fn new(
        kind: PolicyKind,
        weights: &[u32],
        seed: u64,
        worker: usize,
        workers: usize,
    ) -> Self {
        match kind {
            PolicyKind::Random => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(worker as u64);
                let weights = WeightedIndex::new(weights.iter().copied())
                    .expect("a validated mix has a positive total weight");
                Policy::Random {
                    rng: Box::new(rng),
                    weights,
                }
            }
            PolicyKind::Repeat => {
                let order: Vec<usize> = weights
                    .iter()
                    .enumerate()
                    .flat_map(|(index, &weight)| std::iter::repeat_n(index, weight as usize))
                    .collect();
                let next = worker * (order.len() / workers.max(1));
                Policy::Repeat { order, next }
            }
        }
    }

    /// Index into the mix of the next behaviour to request.
    pub(crate) fn next_index(&mut self) -> usize {
        match self {
            Policy::Random { rng, weights } => weights.sample(rng.as_mut()),
            Policy::Repeat { order, next } => {
                let index = order[*next % order.len()];
                *next = (*next + 1) % order.len();
                index
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(policy: &mut Policy, n: usize) -> Vec<usize> {
        (0..n).map(|_| policy.next_index()).collect()
    }

    #[test]
    fn random_gives_the_same_sequence_for_the_same_seed() {
        let weights = [50, 50];
        let a = take(
            &mut Policy::new(PolicyKind::Random, &weights, 42, 0, 4),
            200,
        );
        let b = take(
            &mut Policy::new(PolicyKind::Random, &weights, 42, 0, 4),
            200,
        );
        assert_eq!(a, b);
        let other_seed = take(
            &mut Policy::new(PolicyKind::Random, &weights, 43, 0, 4),
            200,
        );
        assert_ne!(a, other_seed);
        let other_worker = take(
            &mut Policy::new(PolicyKind::Random, &weights, 42, 1, 4),
            200,
        );
        assert_ne!(a, other_worker);
    }

    #[test]
    fn random_follows_the_weights() {
        let mut policy = Policy::new(PolicyKind::Random, &[95, 5, 0], 7, 0, 1);
        let picks = take(&mut policy, 20_000);
        let rare = picks.iter().filter(|&&i| i == 1).count();
        assert!((800..1200).contains(&rare), "{rare} of 20000 for weight 5%");
        assert!(!picks.contains(&2), "a zero weight is never picked");
    }

    #[test]
    fn repeat_cycles_the_expanded_list_from_a_per_worker_offset() {
        let weights = [3, 1];
        let first = take(&mut Policy::new(PolicyKind::Repeat, &weights, 0, 0, 2), 8);
        assert_eq!(first, vec![0, 0, 0, 1, 0, 0, 0, 1]);
        let second = take(&mut Policy::new(PolicyKind::Repeat, &weights, 0, 1, 2), 4);
        assert_eq!(second, vec![0, 1, 0, 0]);
    }

    #[test]
    fn repeat_plain_mix_sends_one_404_in_100() {
        let mut policy = Policy::new(PolicyKind::Repeat, &[99, 1], 0, 3, 4);
        let picks = take(&mut policy, 1000);
        assert_eq!(picks.iter().filter(|&&i| i == 1).count(), 10);
    }
}
