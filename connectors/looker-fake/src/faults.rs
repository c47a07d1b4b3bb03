//! Fault injection: deterministic rules that apply to the next N requests of a route (or every
//! request), plus a seeded error rate. Routes are named by Looker operation id (`run_query`,
//! `search_dashboards`, …, and `alive`); `*` or no route means every API route.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dataset::Rng;

/// What a fault does to a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this HTTP status (e.g. 500, 503) and a Looker-style error body.
    Status {
        /// HTTP status code to return.
        status: u16,
    },
    /// Answer 429 with a `Retry-After` header.
    RateLimit {
        /// Seconds in the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// Answer 200 with the real body cut in half (invalid JSON), keeping the content type.
    Malformed,
    /// Answer 200 with a valid JSON array of about this many MiB.
    Oversized {
        /// Body size in MiB.
        mib: u64,
    },
    /// Close the connection without a response (TCP reset).
    Reset,
    /// Delay the response by this many milliseconds (adds up with other latency).
    Latency {
        /// Added delay in milliseconds.
        ms: u64,
    },
    /// Answer `status` for a seeded pseudo-random fraction `rate` (0..=1) of requests.
    ErrorRate {
        /// Fraction of requests that fail.
        rate: f64,
        /// HTTP status of the failures.
        status: u16,
        /// Seed of the deterministic random sequence.
        seed: u64,
    },
}

/// One fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Operation id the rule applies to (`run_query`, `login`, …); `None` or `*` = every route.
    #[serde(default)]
    pub route: Option<String>,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many times the rule fires before it is removed; `None` = until cleared.
    #[serde(default)]
    pub count: Option<u32>,
}

impl Fault {
    /// The next `count` requests on `route` get `kind`.
    pub fn next(route: &str, count: u32, kind: FaultKind) -> Fault {
        Fault {
            route: Some(route.to_string()),
            kind,
            count: Some(count),
        }
    }

    /// Every request on `route` (`*` for all) gets `kind` until the faults are cleared.
    pub fn always(route: &str, kind: FaultKind) -> Fault {
        Fault {
            route: Some(route.to_string()),
            kind,
            count: None,
        }
    }

    fn applies_to(&self, route: &str) -> bool {
        match self.route.as_deref() {
            None | Some("*") => true,
            Some(r) => r == route,
        }
    }
}

/// What the middleware must do with one request.
#[derive(Debug, PartialEq)]
pub(crate) enum Action {
    Status(u16),
    RateLimit(u64),
    Malformed,
    Oversized(u64),
    Reset,
}

struct Rule {
    fault: Fault,
    rng: Rng,
}

#[derive(Default)]
pub(crate) struct FaultState {
    rules: Vec<Rule>,
}

impl FaultState {
    pub(crate) fn add(&mut self, fault: Fault) {
        let seed = match fault.kind {
            FaultKind::ErrorRate { seed, .. } => seed,
            _ => 0,
        };
        self.rules.push(Rule {
            fault,
            rng: Rng::new(seed),
        });
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.rules.iter().map(|r| r.fault.clone()).collect()
    }

    /// Extra latency and at most one action for a request on `route`; consumes counts.
    pub(crate) fn decide(&mut self, route: &str) -> (Duration, Option<Action>) {
        let mut latency = Duration::ZERO;
        let mut action = None;
        for rule in self.rules.iter_mut().filter(|r| r.fault.applies_to(route)) {
            let fires = match &rule.fault.kind {
                FaultKind::Latency { ms } => {
                    latency += Duration::from_millis(*ms);
                    true
                }
                _ if action.is_some() => false,
                FaultKind::ErrorRate { rate, status, .. } => {
                    let hit = rule.rng.unit() < *rate;
                    if hit {
                        action = Some(Action::Status(*status));
                    }
                    hit
                }
                FaultKind::Status { status } => {
                    action = Some(Action::Status(*status));
                    true
                }
                FaultKind::RateLimit { retry_after_secs } => {
                    action = Some(Action::RateLimit(*retry_after_secs));
                    true
                }
                FaultKind::Malformed => {
                    action = Some(Action::Malformed);
                    true
                }
                FaultKind::Oversized { mib } => {
                    action = Some(Action::Oversized(*mib));
                    true
                }
                FaultKind::Reset => {
                    action = Some(Action::Reset);
                    true
                }
            };
            if fires && let Some(count) = rule.fault.count.as_mut() {
                *count = count.saturating_sub(1);
            }
        }
        self.rules.retain(|r| r.fault.count != Some(0));
        (latency, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_n_then_gone_and_seeded_rates_repeat() {
        let mut state = FaultState::default();
        state.add(Fault::next(
            "run_query",
            2,
            FaultKind::Status { status: 503 },
        ));
        state.add(Fault::always("*", FaultKind::Latency { ms: 5 }));
        assert_eq!(state.decide("login"), (Duration::from_millis(5), None));
        assert_eq!(state.decide("run_query").1, Some(Action::Status(503)));
        assert_eq!(state.decide("run_query").1, Some(Action::Status(503)));
        assert_eq!(state.decide("run_query").1, None);
        assert_eq!(state.list().len(), 1);
        let pattern = |seed| {
            let mut s = FaultState::default();
            s.add(Fault::always(
                "*",
                FaultKind::ErrorRate {
                    rate: 0.5,
                    status: 500,
                    seed,
                },
            ));
            (0..32)
                .map(|_| s.decide("x").1.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(pattern(42), pattern(42));
        let hits = pattern(42).iter().filter(|h| **h).count();
        assert!((8..=24).contains(&hits), "about half fail: {hits}");
    }
}
