//! Per-user and per-room rate limits (governor's GCRA). Over the limit the
//! asker is told "slow down" once; until the limiter lets them through again
//! the bot stays silent, so a flood can't turn into a flood of replies.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LimitsConfig;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limits: answer.
    Allow,
    /// Just went over: say "slow down" (once), wait this long.
    SlowDown(Duration),
    /// Over the limit and already told: say nothing.
    Silent,
}

/// The limiters plus who has already been told to slow down.
pub struct Limits {
    users: DefaultKeyedRateLimiter<String>,
    rooms: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    /// Key -> end of the window in which the key was already warned.
    warned: Mutex<HashMap<String, Instant>>,
    /// Checks since the limiters last forgot the keys at rest.
    checks: std::sync::atomic::AtomicU32,
    /// The semantic model's share of the CPU, across all rooms.
    semantic: DefaultDirectRateLimiter,
}

/// Every this many checks, keys whose limiter is back at rest are forgotten, so
/// the limiters hold only users and rooms active lately.
const PRUNE_EVERY: u32 = 1024;

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl Limits {
    /// Limiters for the configured quotas.
    pub fn new(cfg: &LimitsConfig) -> Limits {
        Limits {
            users: RateLimiter::keyed(quota(cfg.user_per_minute, cfg.user_burst)),
            rooms: RateLimiter::keyed(quota(cfg.room_per_minute, cfg.room_burst)),
            clock: DefaultClock::default(),
            warned: Mutex::new(HashMap::new()),
            checks: std::sync::atomic::AtomicU32::new(0),
            semantic: RateLimiter::direct(quota(cfg.semantic_per_minute, cfg.semantic_burst)),
        }
    }

    /// Whether the next question may be re-ranked by the semantic model (and
    /// counts it), or must be ranked by words alone: the model's budget.
    pub fn semantic(&self) -> bool {
        self.semantic.check().is_ok()
    }

    /// How many users and rooms the limiters hold state for.
    #[cfg(test)]
    pub fn keys(&self) -> usize {
        self.users.len() + self.rooms.len()
    }

    /// Counts one request by `user` in `room`.
    pub fn check(&self, user: &str, room: &str) -> Verdict {
        let n = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.users.retain_recent();
            self.rooms.retain_recent();
        }
        let over = match self.users.check_key(&user.to_owned()) {
            Err(not_until) => Some((
                format!("u {user}"),
                not_until.wait_time_from(self.clock.now()),
            )),
            Ok(()) => match self.rooms.check_key(&room.to_owned()) {
                Err(not_until) => Some((
                    format!("r {room}"),
                    not_until.wait_time_from(self.clock.now()),
                )),
                Ok(()) => None,
            },
        };
        let Some((key, wait)) = over else {
            return Verdict::Allow;
        };
        let now = Instant::now();
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        // Forget old warnings so the map can't grow without bound.
        warned.retain(|_, until| *until > now);
        if warned.contains_key(&key) {
            return Verdict::Silent;
        }
        // Stay quiet until one more request would be let through; a short
        // floor stops a sustained flood from earning a warning every refill.
        let window = wait.max(Duration::from_secs(10));
        warned.insert(key, now + window);
        Verdict::SlowDown(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(user_burst: u32, room_burst: u32) -> Limits {
        Limits::new(&LimitsConfig {
            user_burst,
            user_per_minute: 1,
            room_burst,
            room_per_minute: 1,
            send_attempts: 1,
            semantic_burst: 2,
            semantic_per_minute: 1,
        })
    }

    #[test]
    fn semantic_budget_runs_out_then_words_alone() {
        let l = limits(3, 3);
        let used: Vec<bool> = (0..5).map(|_| l.semantic()).collect();
        assert_eq!(used, [true, true, false, false, false]);
    }

    #[test]
    fn flood_gets_burst_then_one_warning_then_silence() {
        let l = limits(3, 100);
        let verdicts: Vec<Verdict> = (0..10).map(|_| l.check("@a:x", "!r:x")).collect();
        assert_eq!(&verdicts[..3], &[Verdict::Allow; 3]);
        assert!(matches!(verdicts[3], Verdict::SlowDown(_)));
        assert!(verdicts[4..].iter().all(|v| *v == Verdict::Silent));
        // Someone else is unaffected.
        assert_eq!(l.check("@b:x", "!r:x"), Verdict::Allow);
    }

    #[test]
    fn room_limit_applies_across_users() {
        let l = limits(100, 2);
        assert_eq!(l.check("@a:x", "!r:x"), Verdict::Allow);
        assert_eq!(l.check("@b:x", "!r:x"), Verdict::Allow);
        assert!(matches!(l.check("@c:x", "!r:x"), Verdict::SlowDown(_)));
        assert_eq!(l.check("@d:x", "!r:x"), Verdict::Silent);
        assert_eq!(l.check("@a:x", "!other:x"), Verdict::Allow);
    }

    #[test]
    fn limiters_forget_users_and_rooms_at_rest() {
        // Quotas that refill within microseconds: every key is soon at rest.
        let l = Limits::new(&LimitsConfig {
            user_burst: 1,
            user_per_minute: 60_000_000,
            room_burst: 1,
            room_per_minute: 60_000_000,
            send_attempts: 1,
            semantic_burst: 1,
            semantic_per_minute: 1,
        });
        for i in 0..20_000 {
            l.check(&format!("@u{i}:x"), &format!("!r{i}:x"));
        }
        assert!(l.keys() <= 2 * PRUNE_EVERY as usize, "{} keys", l.keys());
    }
}
