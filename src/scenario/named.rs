//! The named tests: the seed's four mixes, unchanged.

use super::{MixEntry, TestSpec};
use crate::behaviour::Behaviour;
use crate::policy::PolicyKind;

/// Every named test, in the order reports show them.
pub fn named_tests() -> Vec<TestSpec> {
    let plain = Behaviour::plain;
    let sleeping = |sleep_duration| Behaviour::Sleeping { sleep_duration };
    vec![
        TestSpec {
            name: "Plain".into(),
            description: "99 HTTP 200 and 1 HTTP 404, in order".into(),
            policy: PolicyKind::Repeat,
            mix: vec![
                MixEntry::new(plain(), 99),
                MixEntry::new(
                    Behaviour::PlainResponse {
                        length: None,
                        status: 404,
                    },
                    1,
                ),
            ],
        },
        TestSpec {
            name: "LightSleep".into(),
            description: "random: 99% HTTP 200, 1% sleep 0.5 s".into(),
            policy: PolicyKind::Random,
            mix: vec![MixEntry::new(plain(), 99), MixEntry::new(sleeping(0.5), 1)],
        },
        TestSpec {
            name: "HeavySleep".into(),
            description: "random: 95% HTTP 200, 5% sleep 2 s".into(),
            policy: PolicyKind::Random,
            mix: vec![MixEntry::new(plain(), 95), MixEntry::new(sleeping(2.0), 5)],
        },
        TestSpec {
            name: "SIGSEGV".into(),
            description: "random: 50% HTTP 200, 50% the worker sends itself SIGSEGV".into(),
            policy: PolicyKind::Random,
            mix: vec![
                MixEntry::new(plain(), 50),
                MixEntry::new(Behaviour::SIGSEGV, 50),
            ],
        },
        TestSpec {
            name: "Leak".into(),
            description: "random: 90% HTTP 200, 10% leak 4 MiB each (pair it with --memory)".into(),
            policy: PolicyKind::Random,
            mix: vec![
                MixEntry::new(plain(), 90),
                MixEntry::new(Behaviour::LeakMemory { how_many: 4 << 20 }, 10),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_tests_keep_their_mixes() {
        let tests = named_tests();
        let names: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names[..4], ["Plain", "LightSleep", "HeavySleep", "SIGSEGV"]);
        let weights = |name: &str| -> Vec<u32> {
            let test = tests.iter().find(|t| t.name == name).unwrap();
            test.mix.iter().map(|e| e.weight).collect()
        };
        assert_eq!(weights("Plain"), [99, 1]);
        assert_eq!(weights("LightSleep"), [99, 1]);
        assert_eq!(weights("HeavySleep"), [95, 5]);
        assert_eq!(weights("SIGSEGV"), [50, 50]);
        assert_eq!(tests[0].policy, PolicyKind::Repeat);
        assert!(tests[1..].iter().all(|t| t.policy == PolicyKind::Random));
    }
}
