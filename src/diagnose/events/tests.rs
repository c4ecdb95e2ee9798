//! The event diagnosis, family by family: a few events written here, correlated, diagnosed, and
//! the findings each machine gets.

use chrono::{DateTime, Utc};

use crate::correlate::correlate;
use crate::diagnose::Diagnosis;
use crate::events::{Keep, RawEvent, normalize_all};
use crate::model::InputFormat;
use crate::rules::Rules;
use crate::zone::Zone;

const APP: &str = "55c92734-d682-4d71-983e-d6ec3f16059f";
const CMID_A: &str = "5d35afb9-642b-47e9-896f-c9a008df6e2c";
const CMID_B: &str = "aab45ff2-a572-489e-bc67-5b1b07fb3ca6";

/// Seconds after 2026-10-05 08:00 UTC.
fn at(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(1_791_187_200 + seconds, 0)
}

/// `HH:MM` of a time given as [`at`]'s seconds, as the payloads write client times.
fn clock(seconds: i64) -> String {
    at(seconds).map_or_else(String::new, |t| t.format("%Y/%m/%d %H:%M").to_string())
}

fn event(machine: &str, id: u32, seconds: i64, info: String, index: u64) -> RawEvent {
    RawEvent {
        provider: "Microsoft-Windows-Security-SPP".into(),
        event_id: id,
        time_created: at(seconds),
        computer: Some(machine.into()),
        data: vec![info],
        index,
        ..RawEvent::default()
    }
}

/// A client's request (12288) to `host` with `cmid`, its result code in the request.
fn request(client: &str, host: &str, cmid: &str, code: &str, s: i64, i: u64) -> RawEvent {
    let info = format!(
        "{code}, 0x0, {host}:1688, {cmid}, {}, 0, 2, 43200, {APP}",
        clock(s)
    );
    event(client, 12288, s, info, i)
}

/// The answer (12289) to a client's request: activated when its code is success.
fn answer(client: &str, code: &str, s: i64, i: u64) -> RawEvent {
    let activated = u8::from(code == "0x0");
    let info = format!("{code}, 0x0, {activated}, 0, 30, 120, 10080, {}", clock(s));
    event(client, 12289, s, info, i)
}

/// A host's record (12290) of a client's request.
fn record(host: &str, client: &str, cmid: &str, code: &str, s: i64, i: u64) -> RawEvent {
    let info = format!("{code},30,{client},{cmid},{},0,2,43200,{APP}", clock(s));
    event(host, 12290, s, info, i)
}

/// The findings of each machine after diagnosing `raws` as of the last event plus an hour.
fn diagnosed(raws: &[RawEvent]) -> Diagnosis {
    let rules = Rules::embedded().unwrap();
    let mut events = normalize_all(&rules, raws, "t.evtx", InputFormat::Evtx, Keep::Activation);
    crate::events::sort(&mut events);
    let now =
        raws.iter().filter_map(|r| r.time_created).max().unwrap() + chrono::Duration::hours(1);
    let corr = correlate(&events, now, 1, rules.kms());
    super::diagnose(&rules, (&events, &corr), now, None, 30, Zone::Utc)
}

/// The findings of `machine` among `family`, in report order.
fn found(d: &Diagnosis, machine: &str, family: &[&str]) -> Vec<String> {
    ids_of(d, machine)
        .into_iter()
        .filter(|id| family.contains(&id.as_str()))
        .collect()
}

/// How a request fares on its way to a host and back.
const DELIVERY: &[&str] = &[
    "kms-unreachable",
    "kms-request-not-received",
    "kms-response-lost",
    "kms-host-unknown",
];

fn ids_of(d: &Diagnosis, machine: &str) -> Vec<String> {
    d.machines
        .iter()
        .find(|m| m.name == machine)
        .map(|m| m.findings.clone())
        .unwrap_or_default()
}

/// The host's log covers a time at which a client's request got no answer: it never arrived.
#[test]
fn an_unanswered_request_the_covering_host_log_lacks_never_reached_the_host() {
    let d = diagnosed(&[
        record("kms01", "other", CMID_B, "0x0", 0, 1),
        request("pc1", "kms01", CMID_A, "0x8007274C", 600, 2),
        record("kms01", "other", CMID_B, "0x0", 1200, 3),
    ]);
    assert_eq!(
        found(&d, "pc1", DELIVERY),
        ["kms-request-not-received", "kms-unreachable"]
    );
}

/// The host logged the request, the client never processed an answer: the answer was lost.
#[test]
fn a_request_the_host_logged_without_an_answer_lost_its_answer() {
    let d = diagnosed(&[
        request("pc1", "kms01", CMID_A, "0x8007274C", 600, 1),
        record("kms01", "pc1", CMID_A, "0x0", 601, 2),
    ]);
    assert_eq!(found(&d, "pc1", DELIVERY), ["kms-response-lost"]);
}

/// An answered refusal raises the finding its code names, and the host is not blamed for a
/// request it answered.
#[test]
fn an_answered_refusal_raises_its_codes_finding() {
    let d = diagnosed(&[
        request("pc1", "kms01", CMID_A, "0x0", 600, 1),
        answer("pc1", "0xC004F038", 601, 2),
        record("kms01", "pc1", CMID_A, "0xC004F038", 601, 3),
    ]);
    assert!(ids_of(&d, "pc1").contains(&"kms-count-insufficient".to_owned()));
    assert_eq!(found(&d, "pc1", DELIVERY), Vec::<String>::new());
}

/// A client that talks to a host whose log is not among the inputs, while another host's is.
#[test]
fn requests_to_a_host_whose_log_is_missing_are_said_so() {
    let d = diagnosed(&[
        record("kms01", "other", CMID_B, "0x0", 0, 1),
        request("pc1", "kms99", CMID_A, "0x0", 600, 2),
        answer("pc1", "0x0", 601, 3),
    ]);
    assert_eq!(found(&d, "pc1", DELIVERY), ["kms-host-unknown"]);
}

/// One CMID from two machines' own logs: one finding for the pair, each machine names it.
#[test]
fn one_cmid_from_two_machines_is_a_clone() {
    let d = diagnosed(&[
        request("pc1", "kms01", CMID_A, "0x0", 600, 1),
        answer("pc1", "0x0", 601, 2),
        request("pc2", "kms01", CMID_A, "0x0", 700, 3),
        answer("pc2", "0x0", 701, 4),
    ]);
    let clones: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.id == "duplicate-cmid")
        .collect();
    assert_eq!(clones.len(), 1);
    assert_eq!(clones[0].machines, ["pc1", "pc2"]);
    assert!(ids_of(&d, "pc1").contains(&"duplicate-cmid".to_owned()));
    assert!(ids_of(&d, "pc2").contains(&"duplicate-cmid".to_owned()));
}
