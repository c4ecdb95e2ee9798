//! The fleet simulation: every client's activation attempts in global time order, the hosts'
//! CMID counting, the injected faults, and the ground truth each machine ends in. Behaviour
//! follows research/domain-facts.md: retries every activation interval (120 min) until activated,
//! renewal every renewal interval (7 days), 180-day validity, 30-day grace, a host that counts the
//! distinct CMIDs it saw in 30 days (capped at 50) and answers 0xC004F038 below the client's
//! N-policy (25 client editions, 5 server editions), 0xC004F06C beyond 4 hours of clock skew.
//!
//! This file runs the phases in order; each lives in its own file: `setup` builds the machines
//! from the scenario, `hosts` does the hosts' own logging and memory, `attempt` runs the
//! clients' attempts, `genuine` the genuine-state faults, `time` the license clock, and `expect`
//! states the truth. `events` spells every event, `world` holds the state they share,
//! `machine` the fleet handed to the writer, `facts` the numbers above, `rng` the randomness.

mod attempt;
mod events;
mod expect;
mod facts;
mod genuine;
mod hosts;
mod machine;
mod rng;
mod setup;
mod time;
mod world;

use chrono::Duration;

pub(crate) use facts::WINDOWS_APP_ID;
pub(crate) use machine::{Fleet, Log, Role, SimEvent, SimMachine};
pub(crate) use rng::Rng;

use super::scenario::Scenario;

/// Runs a scenario. `scale` multiplies every group's count.
pub(crate) fn simulate(s: &Scenario, seed: u64, scale: f64) -> Fleet {
    let start = s.start;
    let now = start + Duration::days(i64::from(s.days));
    let (mut world, mut clients) = setup::build(s, seed, scale, now);
    hosts::publish_dns(s, &mut world, now);
    hosts::remember_prior(&mut world, &clients, start);
    attempt::run_attempts(s, &mut world, &mut clients, now);
    // Genuine-state faults: 8209 once a day while they last, 12305 when they end.
    genuine::genuine_events(&mut world, &mut clients, now);
    hosts::record_counts(&mut world, now);
    // Each machine's events in time order, and its license as it stands at the end.
    for m in &mut world.machines {
        m.events
            .sort_by(|a, b| a.time.cmp(&b.time).then(a.log.cmp(&b.log)));
        m.license = time::settle(m.license, now);
    }
    hosts::roll_off(s, &mut world.machines);
    expect::expectations(&mut world, &clients, now);
    Fleet {
        start,
        now,
        seed,
        machines: world.machines,
    }
}
