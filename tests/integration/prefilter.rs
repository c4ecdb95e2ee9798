//! The fast `.evtx` reader (the pre-filter) against the `evtx` crate, record by record, over
//! every `.evtx` the project has and the public real logs: the same records with the same
//! fields, whether the activation providers or every provider is selected; real logs read
//! without handing a chunk to the crate.

use std::path::Path;

use crate::events::SAMPLES;

/// Every `.evtx` the project has: synth fleets, the damaged fixtures, the public samples.
fn all_evtx() -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "evtx") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    for d in ["testdata", SAMPLES.as_str()] {
        walk(Path::new(d), &mut v);
    }
    v.sort();
    v
}

#[test]
fn the_evtx_prefilter_gives_the_crates_answer() {
    let rules = kmsdiag::Rules::load(None).unwrap();
    let cat = rules.events();
    let ids: &[u32] = kmsdiag::CORRELATED;
    let analyze = kmsdiag::Keep::Ids(ids);
    kmsdiag::with_select(&rules, analyze, |select| {
        prefilter_matches_crate(select, cat, ids);
    });
}

fn prefilter_matches_crate(select: &kmsdiag::Select<'_>, cat: &kmsdiag::Catalogue, ids: &[u32]) {
    let keep = |r: &kmsdiag::RawEvent| {
        ids.contains(&r.event_id)
            && (cat.provider(&r.provider).is_some()
                || r.event_source_name
                    .as_deref()
                    .is_some_and(|n| cat.provider(n).is_some()))
    };
    let files = all_evtx();
    assert!(files.len() > 20, "{}", files.len());
    let mut kept = 0;
    for f in files {
        let crate_read = kmsdiag::read_file(&f, &keep);
        let fast_read = kmsdiag::read_file_selected(&f, select, &keep, &mut Vec::new());
        let ((mut a, _, na), (mut b, _, nb)) = match (crate_read, fast_read) {
            (Ok(a), Ok(b)) => (a, b),
            // Not an event log at all (testdata/hostile/): both refuse it.
            (Err(_), Err(_)) => continue,
            (a, b) => panic!(
                "{}: the readers disagree: {:?} / {:?}",
                f.display(),
                a.err(),
                b.err()
            ),
        };
        let key = |e: &kmsdiag::RawEvent| (e.record_id, e.event_id, e.time_created);
        a.sort_by_key(key);
        b.sort_by_key(key);
        for e in a.iter_mut().chain(b.iter_mut()) {
            e.index = 0;
        }
        if f.starts_with("testdata/hostile") {
            // Deliberately damaged: where the crate gives up on a chunk (tables pointing outside
            // it), the pre-filter may still read its records; it never reads fewer.
            let missing = a.iter().filter(|e| !b.contains(e)).count();
            assert_eq!(missing, 0, "{}: the pre-filter lost records", f.display());
        } else {
            assert_eq!(a, b, "{}", f.display());
            assert_eq!(na, nb, "{}: record count", f.display());
        }
        kept += a.len();
    }
    assert!(kept > 1000, "{kept}");
}

/// With every provider and id selected, the pre-filter reads each record as the crate does —
/// the real Windows logs among the samples included (GUID-typed provider ids, named data), not
/// only the logs kmsdiag writes itself.
#[test]
fn the_evtx_prefilter_reads_every_record_as_the_crate_does() {
    let provider = |_: &str| true;
    let event_id = |_: u32| true;
    let select = kmsdiag::Select {
        provider: &provider,
        event_id: &event_id,
    };
    let keep = |_: &kmsdiag::RawEvent| true;
    let mut compared = 0;
    for f in all_evtx() {
        if f.starts_with("testdata/hostile") {
            continue;
        }
        let crate_read = kmsdiag::read_file(&f, &keep);
        let fast_read = kmsdiag::read_file_selected(&f, &select, &keep, &mut Vec::new());
        let ((mut a, _, na), (mut b, _, nb)) = match (crate_read, fast_read) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => panic!("{}: {:?} / {:?}", f.display(), a.err(), b.err()),
        };
        let key = |e: &kmsdiag::RawEvent| (e.record_id, e.time_created);
        a.sort_by_key(key);
        b.sort_by_key(key);
        for e in a.iter_mut().chain(b.iter_mut()) {
            e.index = 0;
        }
        assert_eq!(na, nb, "{}: record count", f.display());
        assert_eq!(a.len(), b.len(), "{}", f.display());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{}", f.display());
        }
        compared += a.len();
    }
    assert!(compared > 5000, "{compared}");
}

/// The pre-filter reads real Windows logs itself (their templates give the provider GUID as a
/// GUID value, classic events' strings as a string array repeating `Data`, `Binary` beside it,
/// elements left out for a null value, among others): the crate is asked only for chunks that
/// are damaged.
#[test]
fn the_evtx_prefilter_reads_real_logs_without_the_crate() {
    let rules = kmsdiag::Rules::load(None).unwrap();
    let analyze = kmsdiag::Keep::Ids(kmsdiag::CORRELATED);
    kmsdiag::with_select(&rules, analyze, real_logs_without_the_crate);
}

fn real_logs_without_the_crate(select: &kmsdiag::Select<'_>) {
    let mut chunks = 0;
    for f in all_evtx() {
        let name = f.display().to_string();
        let real = name.starts_with("testdata/evtx/") || name.starts_with(SAMPLES.as_str());
        if !real || name.contains("bad_chunk_magic") {
            continue;
        }
        let mut handed = Vec::new();
        let mut fallback = |_: Vec<u8>, number: u64| {
            handed.push(number);
            (Vec::new(), Vec::new(), 0)
        };
        let file = std::fs::File::open(&f).unwrap();
        kmsdiag::read_evtx_chunks(
            std::io::BufReader::new(file),
            select,
            &mut fallback,
            &mut <[kmsdiag::RawEvent]>::to_vec,
            &mut Vec::new(),
        )
        .unwrap();
        let size = std::fs::metadata(&f).unwrap().len();
        chunks += kmsdiag::chunk_count(size);
        // The one sample with a record whose size field is zero is damaged in that chunk.
        let allowed = usize::from(name.contains("zero-data-size"));
        assert!(
            handed.len() <= allowed,
            "{name}: chunks {handed:?} went to the crate"
        );
    }
    assert!(chunks > 30, "{chunks}");
}
