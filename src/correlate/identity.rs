//! Which machine names in a fleet's events are one machine: the spellings of one name (`PC01`,
//! `pc01$`, `pc01.corp.contoso.com`, through the names' [`Directory`]), and renames. A CMID seen
//! under one name and then under another, the two names' times not overlapping, and each log
//! holding one record-id sequence across the change (the machine's own log goes on counting
//! under its new name), is one machine renamed: its old names become its newest. The same CMID
//! from two names at overlapping or alternating times, or from two logs with record-id
//! sequences of their own, is left to the diagnosis as cloned machines. Facts, not verdicts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::events::ActivationEvent;
use crate::model::ids::event;
use crate::model::names::{Directory, same_machine};

use crate::events::Fields;

use super::fields::text_of;

/// A machine seen under several names, one after the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rename {
    /// The CMID that ties the names together (lower case).
    pub cmid: String,
    /// Each name with the first and last time it was seen with the CMID, oldest first; the last
    /// is the machine's name now.
    pub names: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
}

/// The fleet's machine names: every spelling's machine, and the renames found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identity {
    pub directory: Directory,
    pub renames: Vec<Rename>,
}

/// Host records a name needs, with no log of the machine's own, before a change of name at the
/// host is taken for a rename: one record each cannot tell a rename from two clones that each
/// asked once.
const HOST_ONLY_RECORDS: usize = 2;

/// Where a CMID was seen under a name.
#[derive(Debug, Default)]
struct Seen {
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// In the machine's own log: (input, log) → record ids.
    own: BTreeMap<(String, String), Vec<u64>>,
    /// Own-log records without a record id (text exports), by input.
    own_unnumbered: BTreeMap<String, usize>,
    /// Records at KMS hosts.
    host: usize,
}

impl Seen {
    fn at(&mut self, t: Option<DateTime<Utc>>) {
        if let Some(t) = t {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    fn has_own(&self) -> bool {
        !self.own.is_empty() || !self.own_unnumbered.is_empty()
    }
}

/// The fleet's machine names from its events (before correlation).
pub(crate) fn identify(events: &[ActivationEvent]) -> Identity {
    let mut spellings: Vec<&str> = Vec::new();
    let mut last: Option<&std::sync::Arc<str>> = None;
    for m in events.iter().map(ActivationEvent::machine) {
        if last.is_none_or(|l| !std::sync::Arc::ptr_eq(l, m)) {
            spellings.push(m);
            last = Some(m);
        }
    }
    let mut directory = Directory::of(spellings.iter().copied());
    let machines: Vec<String> = {
        let mut v: Vec<String> = spellings
            .iter()
            .map(|s| directory.resolve(s).to_owned())
            .collect();
        v.sort_unstable_by_key(|s| s.to_ascii_lowercase());
        v.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        v
    };
    let seen = sightings(events, &directory, &machines);
    let mut renames = Vec::new();
    for (cmid, names) in seen {
        if let Some(r) = rename(&cmid, &names) {
            renames.push(r);
        }
    }
    for r in &renames {
        if let Some((newest, _, _)) = r.names.last() {
            for (old, _, _) in r.names.iter().rev().skip(1) {
                directory.rename(old, newest);
            }
        }
    }
    Identity { directory, renames }
}

/// A host's records of one (CMID, client name) pair as spelled: how many, the first and last
/// time.
#[derive(Default)]
struct HostSeen {
    count: usize,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

/// CMID → machine name → where it was seen: clients' requests (12288) in their own logs, and
/// hosts' records (12290) naming the client.
fn sightings(
    events: &[ActivationEvent],
    directory: &Directory,
    machines: &[String],
) -> BTreeMap<String, BTreeMap<String, Seen>> {
    let mut out: BTreeMap<String, BTreeMap<String, Seen>> = BTreeMap::new();
    // A host logs a few (CMID, name) pairs hundreds of thousands of times: its records are
    // gathered per pair as spelled (borrowed, nothing allocated per record) and each pair is
    // folded in once below (a host's sightings only count and take the first and last time).
    let mut host: HashMap<(&str, &str), HostSeen, foldhash::fast::RandomState> = HashMap::default();
    let mut fields = Fields::new(["cmid", "client_name"]);
    for e in events {
        let own = match e.event_id {
            event::KMS_REQUEST_SENT => true,
            event::KMS_REQUEST_PROCESSED => false,
            _ => continue,
        };
        let [cmid, client] = fields.get(&e.payload);
        let Some(cmid) = cmid.and_then(text_of).filter(|c| !c.is_empty()) else {
            continue;
        };
        if !own {
            let Some(n) = client.and_then(text_of).filter(|n| !n.is_empty()) else {
                continue;
            };
            let seen = host.entry((cmid, n)).or_default();
            seen.count += 1;
            if let Some(t) = e.time {
                seen.first = Some(seen.first.map_or(t, |f| f.min(t)));
                seen.last = Some(seen.last.map_or(t, |l| l.max(t)));
            }
            continue;
        }
        let name = directory.resolve(e.machine()).to_owned();
        let seen = out
            .entry(cmid.to_ascii_lowercase())
            .or_default()
            .entry(name.to_ascii_lowercase())
            .or_default();
        seen.at(e.time);
        if let Some(r) = e.record_id {
            seen.own
                .entry((
                    e.source.path().to_owned(),
                    e.log().unwrap_or("").to_ascii_lowercase(),
                ))
                .or_default()
                .push(r);
        } else {
            *seen
                .own_unnumbered
                .entry(e.source.path().to_owned())
                .or_default() += 1;
        }
    }
    // A host's client names, resolved once each: to the machine whose own logs carry that name.
    let mut resolved: HashMap<String, String> = HashMap::new();
    for ((cmid, n), h) in host {
        let name = resolved
            .entry(n.to_ascii_lowercase())
            .or_insert_with(|| {
                let n = directory.resolve(n);
                machines
                    .iter()
                    .find(|m| same_machine(m, n))
                    .map_or_else(|| n.to_owned(), Clone::clone)
            })
            .to_ascii_lowercase();
        let seen = out
            .entry(cmid.to_ascii_lowercase())
            .or_default()
            .entry(name)
            .or_default();
        seen.at(h.first);
        seen.at(h.last);
        seen.host += h.count;
    }
    // Names as the machines spell them.
    for names in out.values_mut() {
        let renamed: BTreeMap<String, Seen> = std::mem::take(names)
            .into_iter()
            .map(|(k, v)| {
                let spelled = machines
                    .iter()
                    .find(|m| m.eq_ignore_ascii_case(&k))
                    .cloned()
                    .unwrap_or(k);
                (spelled, v)
            })
            .collect();
        *names = renamed;
    }
    out
}

/// The rename a CMID's names make, if they make one: every name seen at known times, one after
/// the other without overlap, each pair with the machine's own records in one sequence, and a
/// name seen only at hosts seen there more than once.
fn rename(cmid: &str, names: &BTreeMap<String, Seen>) -> Option<Rename> {
    if names.len() < 2 {
        return None;
    }
    let mut order: Vec<(&String, &Seen, DateTime<Utc>, DateTime<Utc>)> = names
        .iter()
        .map(|(n, s)| Some((n, s, s.first?, s.last?)))
        .collect::<Option<_>>()?;
    order.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(b.0)));
    let follows = order.windows(2).all(|w| match w {
        [a, b] => a.3 < b.2,
        _ => true,
    });
    if !follows {
        return None;
    }
    if order
        .iter()
        .any(|(_, s, _, _)| !s.has_own() && s.host < HOST_ONLY_RECORDS)
    {
        return None;
    }
    let own: Vec<&Seen> = order
        .iter()
        .map(|(_, s, _, _)| *s)
        .filter(|s| s.has_own())
        .collect();
    for (i, a) in own.iter().enumerate() {
        for b in own.iter().skip(i + 1) {
            if !one_sequence(a, b) {
                return None;
            }
        }
    }
    Some(Rename {
        cmid: cmid.to_owned(),
        names: order
            .into_iter()
            .map(|(n, _, f, l)| (n.clone(), f, l))
            .collect(),
    })
}

/// Whether the machine's own records under an earlier name (`a`) and a later one (`b`) are one
/// log's: some input holds both names (the machine's log, exported after the rename, still
/// holds its records under the old name), and in every log both appear in every record id of
/// `a` is below every one of `b`. Two machines' logs, each with its own name, are not one.
fn one_sequence(a: &Seen, b: &Seen) -> bool {
    let inputs = |s: &Seen| -> std::collections::BTreeSet<String> {
        s.own
            .keys()
            .map(|(p, _)| p.clone())
            .chain(s.own_unnumbered.keys().cloned())
            .collect()
    };
    if inputs(a).is_disjoint(&inputs(b)) {
        return false;
    }
    a.own.iter().all(|((_, log), ids)| {
        // Logs are compared by name: one machine's log exported twice is one sequence.
        let theirs = b
            .own
            .iter()
            .filter(|((_, l), _)| l == log)
            .flat_map(|(_, v)| v.iter().copied())
            .min();
        match (ids.iter().max(), theirs) {
            (Some(a_max), Some(b_min)) => *a_max < b_min,
            _ => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(first: i64, last: i64, own: &[(&str, &str, &[u64])], host: usize) -> Seen {
        let t = |h: i64| DateTime::<Utc>::from_timestamp(h * 3600, 0);
        let mut s = Seen {
            first: t(first),
            last: t(last),
            host,
            ..Seen::default()
        };
        for (path, log, ids) in own {
            s.own
                .insert(((*path).to_owned(), (*log).to_owned()), ids.to_vec());
        }
        s
    }

    fn names(list: Vec<(&str, Seen)>) -> BTreeMap<String, Seen> {
        list.into_iter().map(|(n, s)| (n.to_owned(), s)).collect()
    }

    /// A host's 12290s naming (CMID, client) pairs in changing case, some without a time.
    fn host_records(n: usize) -> Vec<ActivationEvent> {
        let raws: Vec<crate::events::RawEvent> = (0..n)
            .map(|i| {
                let name = format!("PC{:02}.contoso.com", (i * 7) % 13);
                let name = if i % 3 == 0 {
                    name.to_lowercase()
                } else {
                    name
                };
                let cmid = format!("{:08x}-27f8-4950-8877-7a03be5fb181", (i * 11) % 17);
                let cmid = if i % 5 == 0 {
                    cmid.to_uppercase()
                } else {
                    cmid
                };
                let at = 1_780_000_000 + i64::try_from(i).unwrap_or(0) * 60;
                crate::events::RawEvent {
                    provider: "Microsoft-Windows-Security-SPP".into(),
                    event_id: 12290,
                    time_created: (i % 7 != 0)
                        .then(|| DateTime::from_timestamp(at, 0))
                        .flatten(),
                    computer: Some("kms01.contoso.com".into()),
                    data: vec![format!("0x0,25,{name},{cmid},2026/6/1 10:00,0,2,0,")],
                    index: i as u64,
                    ..crate::events::RawEvent::default()
                }
            })
            .collect();
        let rules = crate::rules::Rules::load(None).unwrap();
        crate::events::normalize_all(
            &rules,
            &raws,
            "kms.evtx",
            crate::model::InputFormat::Evtx,
            crate::events::Keep::Activation,
        )
    }

    /// A pair's records: how many, the first and last time.
    type Span = (usize, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

    /// Regression (host records gathered per pair as spelled, then folded): every record
    /// counts once under its CMID and name ignoring case, with the first and last time of all.
    #[test]
    fn a_hosts_records_count_per_cmid_and_name_ignoring_case() {
        let events = host_records(400);
        let directory = Directory::of(["kms01.contoso.com"]);
        let got = sightings(&events, &directory, &["kms01.contoso.com".to_owned()]);
        let mut want: BTreeMap<(String, String), Span> = BTreeMap::new();
        for e in &events {
            let cmid = text_of(e.payload.get("cmid").unwrap())
                .unwrap()
                .to_ascii_lowercase();
            let name = text_of(e.payload.get("client_name").unwrap())
                .unwrap()
                .to_ascii_lowercase();
            let w = want.entry((cmid, name)).or_default();
            w.0 += 1;
            if let Some(t) = e.time {
                w.1 = Some(w.1.map_or(t, |f| f.min(t)));
                w.2 = Some(w.2.map_or(t, |l| l.max(t)));
            }
        }
        let flat: BTreeMap<_, _> = got
            .iter()
            .flat_map(|(cm, names)| {
                names
                    .iter()
                    .map(move |(n, s)| ((cm.clone(), n.clone()), (s.host, s.first, s.last)))
            })
            .collect();
        assert_eq!(flat, want);
        assert_eq!(flat.values().map(|v| v.0).sum::<usize>(), 400);
    }

    #[test]
    fn one_log_going_on_under_a_new_name_is_a_rename() {
        let n = names(vec![
            (
                "old",
                seen(0, 10, &[("a.evtx", "application", &[1, 2, 3])], 0),
            ),
            (
                "new",
                seen(12, 20, &[("a.evtx", "application", &[4, 5])], 0),
            ),
        ]);
        let r = rename("c", &n).expect("a rename");
        let order: Vec<&str> = r.names.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(order, ["old", "new"]);
    }

    #[test]
    fn overlapping_times_or_two_sequences_are_clones() {
        let overlap = names(vec![
            ("a", seen(0, 10, &[("a.evtx", "application", &[1, 2])], 0)),
            ("b", seen(5, 20, &[("a.evtx", "application", &[3, 4])], 0)),
        ]);
        assert!(rename("c", &overlap).is_none());
        let two_logs = names(vec![
            (
                "a",
                seen(0, 10, &[("a.evtx", "application", &[100, 101])], 0),
            ),
            (
                "b",
                seen(12, 20, &[("b.evtx", "application", &[500, 501])], 0),
            ),
        ]);
        assert!(rename("c", &two_logs).is_none());
        let out_of_sequence = names(vec![
            (
                "a",
                seen(0, 10, &[("a.evtx", "application", &[100, 101])], 0),
            ),
            (
                "b",
                seen(12, 20, &[("a.evtx", "application", &[50, 51])], 0),
            ),
        ]);
        assert!(rename("c", &out_of_sequence).is_none());
        let once_each_at_a_host = names(vec![("a", seen(0, 0, &[], 1)), ("b", seen(1, 1, &[], 1))]);
        assert!(rename("c", &once_each_at_a_host).is_none());
        let host_only = names(vec![("a", seen(0, 5, &[], 3)), ("b", seen(6, 9, &[], 2))]);
        assert!(rename("c", &host_only).is_some());
    }
}
