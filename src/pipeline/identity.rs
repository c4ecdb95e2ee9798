//! The fleet's machine names before the correlation: the names the user gave (`--machine-name
//! FILE=NAME`) to inputs that name no machine, then one name per machine (every spelling of it,
//! and a renamed machine's newest name, as `correlate::identify` finds them) written into the
//! events, which are then put back in order.

use std::collections::HashMap;
use std::sync::Arc;

use crate::correlate::{Identity, identify};
use crate::diagnose::MachineInput;
use crate::events::{ActivationEvent, Context};
use crate::model::NameSource;
use crate::model::names::path_matches;
use crate::model::snapshot::LicenseSnapshot;

use super::read::dedup_events;

/// Names the machines of inputs that name none (`--machine-name FILE=NAME`): their snapshots and
/// the events whose records carry no machine name.
pub(super) fn apply_flags(
    events: &mut [ActivationEvent],
    snapshots: &mut [LicenseSnapshot],
    flags: &[(String, String)],
) {
    if flags.is_empty() {
        return;
    }
    let named = |path: &str| {
        flags
            .iter()
            .find(|(file, _)| path_matches(path, file))
            .map(|(_, n)| n.as_str())
    };
    for s in snapshots.iter_mut().filter(|s| s.machine.is_none()) {
        if let Some(n) = named(&s.path) {
            s.machine = Some(n.to_owned());
        }
    }
    let mut made: HashMap<*const Context, Arc<Context>> = HashMap::new();
    for e in events.iter_mut() {
        if e.context.name_source == NameSource::Text {
            continue;
        }
        let key = Arc::as_ptr(&e.context);
        if let Some(c) = made.get(&key) {
            e.context = c.clone();
            continue;
        }
        let Some(n) = named(e.source.path()) else {
            continue;
        };
        let c = Arc::new(Context {
            machine: Arc::from(n),
            name_source: NameSource::Flag,
            provider: e.context.provider.clone(),
            log: e.context.log.clone(),
        });
        made.insert(key, c.clone());
        e.context = c;
    }
}

/// Marks the machines named by `--machine-name` as named so.
pub(super) fn flagged_sources(machines: &mut [MachineInput], flags: &[(String, String)]) {
    for m in machines
        .iter_mut()
        .filter(|m| m.name_source != NameSource::Text)
    {
        let by_flag = flags.iter().any(|(file, name)| {
            name.eq_ignore_ascii_case(&m.name)
                && m.snapshots.iter().any(|s| path_matches(&s.path, file))
        });
        if by_flag {
            m.name_source = NameSource::Flag;
        }
    }
}

/// Gives every machine of the events one name (its spellings and old names become the one its
/// events carry from now on) and puts the events back in order; the names found.
pub(super) fn unify(events: &mut Vec<ActivationEvent>) -> Identity {
    let identity = identify(events);
    if identity.directory.is_empty() {
        return identity;
    }
    let mut made: HashMap<*const Context, Option<Arc<Context>>> = HashMap::new();
    for e in events.iter_mut() {
        let key = Arc::as_ptr(&e.context);
        let new = made.entry(key).or_insert_with(|| {
            identity.directory.name(e.machine()).map(|n| {
                Arc::new(Context {
                    machine: n.clone(),
                    name_source: e.context.name_source,
                    provider: e.context.provider.clone(),
                    log: e.context.log.clone(),
                })
            })
        });
        if let Some(c) = new {
            e.context = c.clone();
        }
    }
    crate::events::sort(events);
    dedup_events(events);
    identity
}
