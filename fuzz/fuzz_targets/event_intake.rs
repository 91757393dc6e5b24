//! Any bytes through the event intake (decode, classify, serialise): an error or decisions,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reachguard_shared::intake::{self, LoopGuard};

fuzz_target!(|input: &[u8]| {
    let guard = LoopGuard::from_settings(
        Some("arn:aws:sts::111122223333:assumed-role/reachguard-network-events/fn"),
        Some("ReachguardMember"),
        Some("arn:aws:iam::111122223333:role/platform/*"),
    );
    if let Ok(decisions) = intake::decide(input, &guard) {
        for decision in decisions {
            let line = serde_json::to_string(&decision).expect("a decision always serialises");
            assert!(!line.contains('\n'));
        }
    }
});
