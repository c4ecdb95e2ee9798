//! No input makes the slmgr decoder or the diagnosis panic: every fixture, mutated many times in
//! a fixed pseudo-random way (bit flips, truncation, duplication, splices, control characters,
//! huge numbers), goes through decoding, parsing and diagnosis. Deterministic, so a failure here
//! reproduces; the coverage-guided fuzzers in fuzz/ search further.

use kmsdiag::Rules;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }
}

const INSERTS: &[&[u8]] = &[
    b"\x1b[31m",
    b"\r",
    b"\0",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b": ",
    b"0x",
    b"99999999999999999999999",
    b"(",
    b")",
    b"\xe2\x80\xae",
    b"License Status: ",
    b"Name: ",
    b"Current count: 18446744073709551615",
    b"Volume activation expiration: 18446744073709551615 minute(s) (99999999999 day(s))",
    b"Trusted time: 99/99/99999 99:99:99 PM",
    b"Trusted time: 2/30/2025 25:61:61 AM",
    b"Machine: X (",
    b"Activating ",
    b"Error: ",
    b"%",
];

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = (a + rng.below(200)).min(v.len());
                let piece = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, piece);
            }
            3 => {
                let ins = INSERTS[rng.below(INSERTS.len())];
                let at = rng.below(v.len() + 1);
                v.splice(at..at, ins.iter().copied());
            }
            4 if !v.is_empty() => {
                let a = rng.below(v.len());
                let b = (a + rng.below(64)).min(v.len());
                v.drain(a..b);
            }
            _ => v.reverse(),
        }
    }
    v
}

#[test]
fn mutated_fixtures_never_panic() {
    let rules = Rules::embedded().unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 7, 5)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let mut fixtures: Vec<_> = std::fs::read_dir("testdata/slmgr")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    let mut rng = XorShift(0x5EED_1234_ABCD_0001);
    let mut parsed = 0usize;
    for path in &fixtures {
        let original = std::fs::read(path).unwrap();
        for _ in 0..150 {
            let input = mutate(&mut rng, &original);
            if let Ok(snaps) = kmsdiag::parse_bytes(&rules, "mutated.txt", &input) {
                parsed += 1;
                let machines = kmsdiag::group_machines(snaps);
                let d = kmsdiag::diagnose_snapshots(&rules, &machines, now, 30);
                // Rendering must not panic either.
                let report = kmsdiag::Report {
                    schema: kmsdiag::SCHEMA,
                    now: "2025-07-05T12:00:00".to_owned(),
                    now_source: kmsdiag::NowSource::Flag,
                    triage: kmsdiag::Triage::default(),
                    inputs: Vec::new(),
                    machines: d.machines,
                    hosts: d.hosts,
                    findings: d.findings,
                    attempts: kmsdiag::AttemptSummary::default(),
                    kms_inventory: Vec::new(),
                };
                for format in &kmsdiag::ReportFormat::ALL {
                    let mut out = Vec::new();
                    kmsdiag::render(&mut out, *format, &kmsdiag::View::plain(), &report).unwrap();
                }
            }
        }
    }
    assert!(
        parsed > fixtures.len() * 50,
        "most mutations still read as slmgr output ({parsed})"
    );
}

#[test]
fn extreme_values_are_handled() {
    let rules = Rules::embedded().unwrap();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 7, 5)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let text = "Name: Windows(R), Enterprise edition\nDescription: Windows(R) Operating System, VOLUME_KMSCLIENT channel\nPartial Product Key: 2YT43\nLicense Status: Licensed\nVolume activation expiration: 18446744073709551615 minute(s) (1 day(s))\nTrusted time: 12/31/9999 11:59:59 PM\n";
    let snaps = kmsdiag::parse_bytes(&rules, "x.txt", text.as_bytes()).unwrap();
    let d = kmsdiag::diagnose_snapshots(&rules, &kmsdiag::group_machines(snaps), now, 30);
    assert_eq!(d.machines.len(), 1);
    // A megabyte-long line is cut, not choked on: the product name is bounded.
    let long =
        "Name: Windows ".to_owned() + &"W".repeat(1_000_000) + "\nLicense Status: Licensed\n";
    let snaps = kmsdiag::parse_bytes(&rules, "long.txt", long.as_bytes()).unwrap();
    assert!(snaps[0].products[0].name.as_ref().unwrap().len() < 5000);
    let many = "License Status: Licensed\n".repeat(200_000);
    let snaps = kmsdiag::parse_bytes(&rules, "many.txt", many.as_bytes()).unwrap();
    assert_eq!(snaps.len(), 1);
}

/// Byte-level damage inside a chunk: flips, zeroed runs, overwritten sizes and offsets.
fn damage_evtx(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(6) {
        if v.len() <= 4096 {
            break;
        }
        let at = 4096 + rng.below(v.len() - 4096);
        match rng.below(4) {
            0 => v[at] ^= 1 << rng.below(8),
            1 => {
                let end = (at + rng.below(64)).min(v.len());
                v[at..end].fill(0);
            }
            2 => {
                // A plausible-looking 32-bit offset or size where one was.
                let end = (at + 4).min(v.len());
                let val = u32::try_from(rng.next() % 70_000).unwrap().to_le_bytes();
                v[at..end].copy_from_slice(&val[..end - at]);
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn damaged_evtx_never_panics_the_prefilter_or_the_analysis() {
    let rules = Rules::embedded().unwrap();
    let inputs = [
        "testdata/fleets/mixed/ws02.contoso.com/Application.evtx",
        "testdata/fleets/mixed/kms01.contoso.com/Key Management Service.evtx",
        "testdata/fleets/non-genuine/ws01.contoso.com/Application.evtx",
    ];
    let mut rng = XorShift(0x5eed_e47f);
    let mut read = 0;
    for path in inputs {
        let original = std::fs::read(path).unwrap();
        for _ in 0..200 {
            let bytes = damage_evtx(&mut rng, &original);
            let report = kmsdiag::analyze_input(
                &rules,
                "damaged.evtx",
                &bytes,
                &kmsdiag::Options::default(),
            );
            if report
                .inputs
                .iter()
                .any(|i| matches!(i.status.as_str(), "read" | "partial"))
            {
                read += 1;
            }
            serde_json::to_vec(&report).unwrap();
        }
    }
    // Damage inside chunks leaves the file readable (what could be read is still analyzed).
    assert!(read > 300, "{read}");
}
