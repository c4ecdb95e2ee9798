//! As of when each machine is judged: without `--now`, at its own newest evidence (its
//! snapshots' trusted times, its own events; a KMS host at its log's newest record), so a 2020
//! paste read with a 2025 log gets the verdict it gets alone.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::correlate::Correlation;
use crate::model::names::{machine_key, same_machine};

use super::MachineInput;

/// Each machine's newest evidence: its snapshots' trusted times and its own events.
#[derive(Debug, Default)]
pub(crate) struct MachineTimes {
    /// By [`machine_key`]: each machine's name and time.
    by_key: HashMap<String, Vec<(String, NaiveDateTime)>>,
}

impl MachineTimes {
    /// The times of the snapshots' machines and of the correlated clients and hosts.
    pub(crate) fn of(machines: &[MachineInput], corr: &Correlation) -> MachineTimes {
        let mut t = MachineTimes::default();
        for m in machines {
            if let Some(at) = m
                .snapshots
                .iter()
                .filter_map(crate::model::snapshot::LicenseSnapshot::observed_at)
                .max()
            {
                t.add(&m.name, at);
            }
        }
        for c in &corr.clients {
            if let Some(at) = c.last_time {
                t.add(&c.name, at.naive_utc());
            }
        }
        for h in &corr.hosts {
            if let Some(at) = h.last {
                t.add(&h.name, at.naive_utc());
            }
        }
        t
    }

    fn add(&mut self, name: &str, at: NaiveDateTime) {
        let bucket = self.by_key.entry(machine_key(name)).or_default();
        match bucket.iter_mut().find(|(n, _)| same_machine(n, name)) {
            Some((_, t)) => *t = (*t).max(at),
            None => bucket.push((name.to_owned(), at)),
        }
    }

    /// A machine's newest evidence, if it has a time of its own.
    pub(crate) fn get(&self, name: &str) -> Option<NaiveDateTime> {
        self.by_key
            .get(&machine_key(name))?
            .iter()
            .filter(|(n, _)| same_machine(n, name))
            .map(|(_, t)| *t)
            .max()
    }
}
