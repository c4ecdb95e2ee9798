//! The genuine-state faults (tampered licensing files, a blocked key): a client logs 8209 once a
//! day while one lasts and 12305 when it ends, and one still in force at the end is remembered
//! for the ground truth. Activation attempts are not affected by them.

use chrono::{DateTime, Duration, Utc};

use super::events::{genuine_again, not_genuine};
use super::facts::codes;
use super::machine::SimMachine;
use super::world::{Client, Fault, World};
use crate::synth::scenario::FaultKind;

/// Writes every client's genuine-state events up to `now`.
pub(super) fn genuine_events(w: &mut World, clients: &mut [Client], now: DateTime<Utc>) {
    for c in clients {
        if let Some(m) = w.machines.get_mut(c.m) {
            machine_events(m, c, &w.faults, now);
        }
    }
}

/// Writes `m`'s genuine-state events up to `now` and notes in `c` a failure still in force.
fn machine_events(m: &mut SimMachine, c: &mut Client, faults: &[Fault], now: DateTime<Utc>) {
    for f in faults.iter().filter(|f| {
        matches!(f.kind, FaultKind::Tampered | FaultKind::BlockedKey) && f.applies(&m.short)
    }) {
        let code = if f.kind == FaultKind::Tampered {
            codes::TAMPERED
        } else {
            codes::BLOCKED_KEY
        };
        let mut t = f.from.max(m.boot) + Duration::minutes(5);
        let skew = Duration::minutes(m.skew_minutes);
        while t < f.until.min(now) {
            m.events.push(not_genuine(t + skew, code));
            t += Duration::days(1);
        }
        if f.until < now {
            m.events.push(genuine_again(f.until + skew));
        } else {
            c.genuine_bad = Some(code);
        }
    }
}
