//! [`Deadline`]: when the invocation ends (the Lambda runtime's `Context::deadline`), so that an
//! evaluation stops with a retryable failure while there is still time to record what it did,
//! and so that what it claims in the state table is leased exactly until then.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::EvaluationError;

/// Time kept in hand after the last step begun: enough to give a claim back to the state table.
pub const RESERVE: Duration = Duration::from_secs(5);

/// The lease of an evaluation without a known deadline: the longest a Lambda function runs
/// (15 minutes), so that a claim is never taken over while its invocation may still be alive.
pub const LEASE_WITHOUT_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// When the invocation ends, if known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<SystemTime>);

impl Deadline {
    /// The invocation ends at `at`.
    pub fn at(at: SystemTime) -> Deadline {
        Deadline(Some(at))
    }

    /// No known deadline (the sweep's worker, tests): nothing is cut short, and claims are leased
    /// for [`LEASE_WITHOUT_DEADLINE`].
    pub fn unknown() -> Deadline {
        Deadline(None)
    }

    /// Fails with [`EvaluationError::Deadline`] (retryable) when less than [`RESERVE`] is left
    /// before `step` would begin.
    pub fn check(self, step: &'static str) -> Result<(), EvaluationError> {
        let Some(at) = self.0 else {
            return Ok(());
        };
        let left = at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        if left < RESERVE {
            return Err(EvaluationError::Deadline {
                step,
                left_ms: left.as_millis() as u64,
            });
        }
        Ok(())
    }

    /// The epoch second a claim made now is leased until: the deadline (rounded up), or
    /// [`LEASE_WITHOUT_DEADLINE`] from now.
    pub fn lease_until(self) -> i64 {
        let until = self
            .0
            .unwrap_or_else(|| SystemTime::now() + LEASE_WITHOUT_DEADLINE);
        until
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64 + i64::from(d.subsec_nanos() > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_begins_only_with_the_reserve_in_hand() {
        let now = SystemTime::now();
        let cases = [
            (Deadline::unknown(), true, "no deadline"),
            (Deadline::at(now + 2 * RESERVE), true, "plenty of time"),
            (Deadline::at(now + RESERVE / 2), false, "inside the reserve"),
            (Deadline::at(now - RESERVE), false, "already past"),
        ];
        for (deadline, proceeds, case) in cases {
            let checked = deadline.check("publish");
            assert_eq!(checked.is_ok(), proceeds, "{case}");
            if let Err(error) = checked {
                assert_eq!(error.retry(), crate::Retry::Retryable, "{case}");
                assert!(error.to_string().contains("before publish"), "{error}");
            }
        }
    }

    #[test]
    fn claims_are_leased_until_the_deadline() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(Deadline::at(at).lease_until(), 1_700_000_001);
        let unknown = Deadline::unknown().lease_until();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((now + 899..=now + 901).contains(&unknown), "{unknown}");
    }
}
