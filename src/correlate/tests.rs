//! The correlation's tests: one pass against pieces and threads, machine runs, names.

use chrono::DateTime;

use super::intern::{Interner, NoCase};
use super::scan::{Scan, scan_in_pieces};
use super::*;
use crate::rules::Rules;

/// A host log's requests: client names and CMIDs repeating in changing case, some without a
/// CMID, some not counted, the count policy varying.
fn host_requests(n: usize) -> Vec<ActivationEvent> {
    let raws = (0..n)
        .map(|i| {
            let name = format!("PC{:02}.contoso.com", (i * 7) % 37);
            let name = if i % 3 == 0 {
                name.to_lowercase()
            } else {
                name
            };
            let cmid = format!("{:08x}-27f8-4950-8877-7a03be5fb181", (i * 11) % 53);
            let cmid = match i % 5 {
                0 => cmid.to_uppercase(),
                4 => String::new(),
                _ => cmid,
            };
            let code = if i % 4 == 0 { "0xC004F06C" } else { "0x0" };
            crate::events::RawEvent {
                provider: "Microsoft-Windows-Security-SPP".into(),
                event_id: 12290,
                time_created: DateTime::from_timestamp(
                    1_780_000_000 + i64::try_from(i).unwrap() * 60,
                    0,
                ),
                computer: Some("kms01.contoso.com".into()),
                data: vec![format!(
                    "{code},{},{name},{cmid},2026/6/1 10:00,0,2,0,",
                    5 + i % 25
                )],
                index: i as u64,
                ..crate::events::RawEvent::default()
            }
        })
        .collect::<Vec<_>>();
    let rules = crate::rules::Rules::load(None).unwrap();
    crate::events::normalize_all(
        &rules,
        &raws,
        "kms.evtx",
        crate::model::InputFormat::Evtx,
        crate::events::Keep::Activation,
    )
}

#[test]
fn a_hosts_requests_read_in_pieces_number_names_as_one_pass_does() {
    let events = host_requests(500);
    let at: Vec<usize> = (0..events.len()).collect();
    let one = scan_in_pieces(&events, &at, 1, 1);
    assert_eq!(one.requests.len(), 500);
    assert_eq!(one.names.names.len(), 37);
    assert_eq!(one.cmids.names.len(), 53);
    assert_eq!(one.n_policy, Some(29));
    let ids = |s: &Scan<'_>| -> Vec<_> {
        s.requests
            .iter()
            .map(|q| (q.at, q.client, q.cmid, q.counted))
            .collect()
    };
    for (threads, piece) in [(2, 1), (2, 100), (3, 7), (4, 250), (8, 499)] {
        let split = scan_in_pieces(&events, &at, threads, piece);
        assert_eq!(
            ids(&split),
            ids(&one),
            "{threads} threads, pieces of {piece}"
        );
        assert_eq!(split.names.names, one.names.names);
        assert_eq!(split.cmids.names, one.cmids.names);
        assert_eq!(split.n_policy, one.n_policy);
    }
    let now = DateTime::from_timestamp(1_780_000_000 + 600 * 60, 0).unwrap();
    let kms = Rules::embedded().unwrap().kms().clone();
    assert_eq!(
        correlate(&events, now, 1, &kms),
        correlate(&events, now, 2, &kms)
    );
}

#[test]
fn a_machines_run_is_read_in_one_pass() {
    // (event id, minutes after the first): requests, DNS publishing (two at the newest time,
    // one untimed) and a client's request, in the order a log keeps them.
    let log: [(u32, Option<i64>); 8] = [
        (12293, Some(5)),
        (12290, Some(9)),
        (12294, Some(30)),
        (12290, Some(3)),
        (12293, None),
        (12294, Some(30)),
        (12290, None),
        (12288, Some(40)),
    ];
    let raws: Vec<_> = log
        .iter()
        .enumerate()
        .map(|(i, (id, at))| crate::events::RawEvent {
            provider: "Microsoft-Windows-Security-SPP".into(),
            event_id: *id,
            time_created: at.and_then(|m| DateTime::from_timestamp(1_780_000_000 + m * 60, 0)),
            computer: Some("kms01.contoso.com".into()),
            index: i as u64,
            ..crate::events::RawEvent::default()
        })
        .collect();
    let rules = crate::rules::Rules::load(None).unwrap();
    let events = crate::events::normalize_all(
        &rules,
        &raws,
        "kms.evtx",
        crate::model::InputFormat::Evtx,
        crate::events::Keep::All,
    );
    let at = |m: i64| DateTime::from_timestamp(1_780_000_000 + m * 60, 0);
    let run_of = |idx: Range<usize>| {
        let mut run: Option<Run> = None;
        for i in idx {
            match run.as_mut() {
                Some(r) => r.add(i, &events[i]),
                None => run = Some(Run::new(i, &events[i])),
            }
        }
        run.unwrap()
    };
    let run = run_of(0..events.len());
    assert_eq!(run.requests, [1, 3, 6]);
    // The newest publishing event, the last of the two at that time.
    assert_eq!(run.dns, Some(5));
    assert!(run.client);
    assert_eq!(run.first, at(3));
    assert_eq!(run.last, at(40));
    let host_only = run_of(0..7);
    assert!(!host_only.client);
    assert_eq!(host_only.last, at(30));
    let nothing = run_of(7..8);
    assert!(nothing.requests.is_empty() && nothing.dns.is_none() && nothing.first.is_none());
}

#[test]
fn names_differing_only_in_case_are_one_name() {
    use std::hash::BuildHasher;
    let state = foldhash::fast::RandomState::default();
    let pairs = [
        ("PC01.contoso.com", "pc01.CONTOSO.COM"),
        ("ABCDEFGH", "abcdefgh"),
        (
            "7F3E1A55-27F8-4950-8877-7A03BE5FB181",
            "7f3e1a55-27f8-4950-8877-7a03be5fb181",
        ),
        ("ünïcode-PC", "ünïcode-pc"),
        ("", ""),
    ];
    for (a, b) in pairs {
        assert_eq!(NoCase(a), NoCase(b));
        assert_eq!(state.hash_one(NoCase(a)), state.hash_one(NoCase(b)), "{a}");
    }
    // Bytes the case bit merges but that are not letters stay different names.
    assert_ne!(NoCase("pc@1"), NoCase("pc`1"));
    assert_ne!(NoCase("pc01"), NoCase("pc01 "));
    let mut names = Interner::default();
    let ids: Vec<usize> = ["PC01", "pc02", "pc01", "pc@1", "pc`1", "PC02"]
        .iter()
        .map(|n| names.id(n))
        .collect();
    assert_eq!(ids, [0, 1, 0, 2, 3, 1]);
    assert_eq!(names.name(0), "PC01");
}
