//! The pre-filter on logs `evtx_writer` makes: records read over the last chunk's, templates kept
//! across chunks, unwanted templates skipped, and chunks it declines read by the crate with the
//! reason counted.

use std::rc::Rc;

use super::chunk::{Scratch, chunk, scan_chunk};
use super::cursor::Cursor;
use super::layout::{
    CHUNK_HEADER_SIZE, CHUNK_SIZE, FILE_HEADER_SIZE, RECORD_HEADER_SIZE, chunk_header, value_type,
};
use super::template::{Element, Names, Template, Templates, instance_header, template_at};
use super::*;
use crate::synth::evtx_writer::{EvtxWriter, FileState, Record};

/// A log the writer makes of `records`.
fn written(records: impl IntoIterator<Item = Record>) -> Vec<u8> {
    let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new()), 1).unwrap();
    for r in records {
        w.write(&r).unwrap();
    }
    w.finish(FileState::default()).unwrap().into_inner()
}

/// Chunk `i` of a log.
fn chunk_of(log: &[u8], i: usize) -> Vec<u8> {
    log[FILE_HEADER_SIZE + i * CHUNK_SIZE..FILE_HEADER_SIZE + (i + 1) * CHUNK_SIZE].to_vec()
}

/// A record of `provider`'s event `id`, `i` seconds into the day, with `data`.
fn record(provider: &str, id: u16, i: u32, data: Vec<String>) -> Record {
    Record {
        provider: provider.into(),
        event_id: id,
        channel: "Key Management Service".into(),
        computer: "kms01.contoso.com".into(),
        time_created: chrono::DateTime::from_timestamp(1_780_000_000 + i64::from(i), 0).unwrap(),
        data,
        ..Record::default()
    }
}

/// One chunk's wanted records and record count, read with scratch of its own.
fn scan_alone(chunk: &[u8], select: &Select<'_>) -> Result<(Vec<RawEvent>, u64), Decline> {
    let mut scratch = Scratch::default();
    let n = scan_chunk(chunk, select, &mut Templates::default(), &mut scratch)?;
    Ok((scratch.wanted().to_vec(), n))
}

#[test]
fn records_written_over_the_last_chunks_read_as_if_fresh() {
    // A chunk of one record per data shape: the given strings, each record's own.
    let shaped = |shapes: &[&[&str]]| -> Vec<u8> {
        let records = shapes.iter().enumerate().map(|(i, data)| Record {
            computer: format!("kms{i}.contoso.com"),
            ..record(
                "Wanted",
                12290,
                0,
                data.iter().map(|d| (*d).to_owned()).collect(),
            )
        });
        chunk_of(&written(records), 0)
    };
    let select = Select {
        provider: &|p: &str| p == "Wanted",
        event_id: &|_| true,
    };
    let first = shaped(&[&["a long first string", "b", "c"], &["x"; 4], &["only"]]);
    let second = shaped(&[&["1"], &[], &["p", "q"], &["new", "", "third"]]);
    let mut scratch = Scratch::default();
    for (chunk, records) in [(&first, 3), (&second, 4), (&first, 3)] {
        let n = scan_chunk(chunk, &select, &mut Templates::default(), &mut scratch);
        assert_eq!(n, Ok(records));
        let (fresh, _) = scan_alone(chunk, &select).unwrap();
        assert_eq!(scratch.wanted(), fresh.as_slice());
    }
    let (second, _) = scan_alone(&second, &select).unwrap();
    let data: Vec<&[String]> = second.iter().map(|e| e.data.as_slice()).collect();
    assert_eq!(data, [&["1"][..], &[], &["p", "q"], &["new", "", "third"]]);
}

#[test]
fn templates_are_kept_for_the_next_chunks_only_where_their_bytes_recur() {
    let log = |provider: &str, n: u32| -> Vec<u8> {
        written((0..n).map(|i| {
            record(
                provider,
                12290,
                i,
                vec![format!("0x0,{i},pc{i}.contoso.com")],
            )
        }))
    };
    let select = Select {
        provider: &|p: &str| p.starts_with("Wanted"),
        event_id: &|_| true,
    };
    // Two providers in one chunk: the second template names its elements by pointing at
    // the first's names (as Windows writes them), so it is not kept.
    let mixed = ["Wanted", "Wanted too", "Wanted"]
        .into_iter()
        .zip(0..)
        .map(|(provider, i)| record(provider, 12290, i, vec![format!("0x0,{i}")]));
    let mixed = chunk_of(&written(mixed), 0);
    let mut templates = Templates::default();
    let mut scratch = Scratch::default();
    assert_eq!(
        scan_chunk(&mixed, &select, &mut templates, &mut scratch),
        Ok(3)
    );
    let parsed: Vec<usize> = templates
        .entries
        .iter()
        .filter(|t| t.root.is_ok())
        .map(|t| t.at)
        .collect();
    let kept: Vec<usize> = templates.kept.iter().map(|k| k.at).collect();
    // The first record's template and its EventData (nested, names its own) are kept; the
    // second provider's is not.
    assert_eq!(parsed.len(), 3);
    assert_eq!(kept, parsed[..2]);

    let host = log("Wanted", 700);
    let other = log("Wanted too", 5);
    let (a0, a1, a2) = (chunk_of(&host, 0), chunk_of(&host, 1), chunk_of(&host, 2));
    let b0 = chunk_of(&other, 0);
    let mut scratch = Scratch::default();
    let mut roots = Vec::new();
    for c in [&a0, &a1, &b0, &a2] {
        let mut templates = Templates::with_kept(std::mem::take(&mut scratch.kept));
        let n = scan_chunk(c, &select, &mut templates, &mut scratch);
        // Whatever was reused, the records are those of the chunk read on its own.
        let (fresh, records) = scan_alone(c, &select).unwrap();
        assert_eq!(n, Ok(records));
        assert!(!fresh.is_empty());
        assert_eq!(scratch.wanted(), fresh.as_slice());
        let outer: Vec<Rc<Element>> = templates
            .entries
            .iter()
            .filter_map(|t| t.root.clone().ok())
            .filter(|r| &*r.name == "Event")
            .collect();
        assert_eq!(outer.len(), 1);
        roots.extend(outer);
        scratch.kept = templates.kept;
    }
    // The host's next chunks take its template as parsed from the first; the other
    // provider's chunk, whose template differs, gets its own, and does not push it out.
    assert!(Rc::ptr_eq(&roots[0], &roots[1]));
    assert!(!Rc::ptr_eq(&roots[0], &roots[2]));
    assert!(Rc::ptr_eq(&roots[0], &roots[3]));
    // What is kept reads nothing but its own bytes: alone in an empty chunk, at the same
    // offset, they parse to the same template.
    assert!(scratch.kept.len() >= 2);
    for k in &scratch.kept {
        let mut alone = vec![0u8; CHUNK_SIZE];
        alone[k.at + 4..k.at + 4 + k.bytes.len()].copy_from_slice(&k.bytes);
        let (root, end) = template_at(&alone, k.at, &mut Names::default()).unwrap();
        assert_eq!(end, Some(k.at + 4 + k.bytes.len()));
        assert_eq!(format!("{root:?}"), format!("{:?}", k.root));
    }
}

#[test]
fn templates_of_unwanted_literal_providers_are_skipped_unparsed() {
    let records = (0..30).map(|i| {
        let provider = if i % 3 == 0 { "Wanted" } else { "Noise" };
        Record {
            channel: "Application".into(),
            computer: "ws01.contoso.com".into(),
            ..record(provider, 12288, i, vec![format!("0x0,{i}")])
        }
    });
    let chunk = &chunk_of(&written(records), 0);
    let provider = |p: &str| p == "Wanted";
    let select = Select {
        provider: &provider,
        event_id: &|_| true,
    };
    let mut templates = Templates::default();
    let mut scratch = Scratch::default();
    let records = scan_chunk(chunk, &select, &mut templates, &mut scratch).unwrap();
    let events = scratch.wanted();
    assert_eq!(records, 30);
    assert_eq!(events.len(), 10);
    assert!(events.iter().all(|e| &*e.provider == "Wanted"));
    let unwanted = |t: &Template| t.provider.get() == Some(&Some(false));
    let outer: Vec<(bool, bool)> = templates
        .entries
        .iter()
        .filter(|t| unwanted(t) || t.root.as_ref().is_ok_and(|r| &*r.name == "Event"))
        .map(|t| (unwanted(t), t.root.is_ok()))
        .collect();
    // The noise provider's template is marked, never parsed; the wanted one is parsed.
    assert_eq!(outer, [(false, true), (true, false)]);
    // Either way the same records are picked as with a full parse.
    let all = |_: &str| true;
    let everything = Select {
        provider: &all,
        event_id: &|_| true,
    };
    let (every, _) = scan_alone(chunk, &everything).unwrap();
    assert_eq!(every.len(), 30);
}

/// Every record and every provider.
const EVERYTHING: Select<'static> = Select {
    provider: &|_| true,
    event_id: &|_| true,
};

/// `log` with its first record's `Level` value typed INT8 instead of UINT8 (the chunk's
/// checksums made to match again): the crate reads it as the same number; the pre-filter does
/// not read it.
fn with_an_int8_level(log: &[u8]) -> Vec<u8> {
    let mut chunk = chunk_of(log, 0);
    let mut c = Cursor::at(&chunk, CHUNK_HEADER_SIZE + RECORD_HEADER_SIZE);
    instance_header(&mut c, &mut Templates::default(), None).unwrap();
    // The substitution array: a count, then each value's size (2), type (1) and a pad byte. The
    // writer's System values are EventID, Qualifiers, Version, Level, …
    let level_type = c.pos + 4 + 3 * 4 + 2;
    assert_eq!(chunk[level_type], value_type::UINT8);
    chunk[level_type] = value_type::INT8;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let free = u32_at(&chunk, chunk_header::FREE_SPACE) as usize;
    let data = crc32fast::hash(&chunk[CHUNK_HEADER_SIZE..free]);
    chunk[chunk_header::DATA_CHECKSUM..][..4].copy_from_slice(&data.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..chunk_header::CHECKSUMMED_HEAD]);
    h.update(&chunk[chunk_header::CHECKSUMMED_TABLES..CHUNK_HEADER_SIZE]);
    chunk[chunk_header::HEADER_CHECKSUM..][..4].copy_from_slice(&h.finalize().to_le_bytes());
    let mut changed = log.to_vec();
    changed[FILE_HEADER_SIZE..FILE_HEADER_SIZE + CHUNK_SIZE].copy_from_slice(&chunk);
    changed
}

#[test]
fn a_chunk_the_prefilter_declines_is_read_by_the_crate_with_the_reason_given() {
    let log = written((0..20).map(|i| record("Wanted", 12290, i, vec![format!("0x0,{i}")])));
    let changed = with_an_int8_level(&log);
    let (fast, n) = scan_alone(&chunk_of(&log, 0), &EVERYTHING).unwrap();
    assert_eq!(n, 20);
    assert_eq!(
        scan_alone(&chunk_of(&changed, 0), &EVERYTHING),
        Err(Decline::NumberValue(value_type::INT8))
    );

    let settings = crate_settings();
    let mut handed = Vec::new();
    let mut fallback = |data: Vec<u8>, number: u64| {
        handed.push(number);
        chunk_with_crate(data, number, &settings, &EVERYTHING, &|_| true)
    };
    let part = chunk(
        &chunk_of(&changed, 0),
        0,
        &EVERYTHING,
        &mut fallback,
        &mut Scratch::default(),
        &mut <[RawEvent]>::to_vec,
    );
    assert_eq!(handed, [0]);
    assert_eq!(part.declined, Some(Decline::NumberValue(value_type::INT8)));
    // The crate's answer is the pre-filter's for the unchanged chunk.
    assert_eq!(part.records, 20);
    assert!(part.damaged.is_empty(), "{:?}", part.damaged);
    assert_eq!(part.events, fast);

    // Through a whole read, the reason is counted; the unchanged log declines nothing.
    let read = |bytes: &[u8]| {
        let keep = |_: &RawEvent| true;
        let mut notes = Vec::new();
        read_selected(
            std::io::Cursor::new(bytes),
            &EVERYTHING,
            &keep,
            &mut <[RawEvent]>::to_vec,
            &mut notes,
        )
        .unwrap()
    };
    let (before, after) = (read(&log), read(&changed));
    assert_eq!(before.declined, Declines::default());
    assert_eq!(after.declined.total(), 1);
    assert_eq!(
        after.declined.count(Decline::NumberValue(value_type::INT8)),
        1
    );
    assert_eq!(
        after.declined.iter().collect::<Vec<_>>(),
        [(Decline::NumberValue(value_type::INT8), 1)]
    );
    assert_eq!(after.events, before.events);
    assert_eq!(after.records, before.records);
}

#[test]
fn a_truncated_chunk_is_declined_as_truncated() {
    let log = written((0..5).map(|i| record("Wanted", 12290, i, Vec::new())));
    let cut = &log[..FILE_HEADER_SIZE + CHUNK_SIZE / 2];
    let keep = |_: &RawEvent| true;
    let read = read_selected(
        std::io::Cursor::new(cut),
        &EVERYTHING,
        &keep,
        &mut <[RawEvent]>::to_vec,
        &mut Vec::new(),
    )
    .unwrap();
    assert_eq!(read.declined.count(Decline::Truncated), 1);
    assert_eq!(read.declined.total(), 1);
}

#[test]
fn the_read_statistics_carry_the_declined_chunks() {
    let rules = crate::rules::Rules::embedded().unwrap();
    let spp = |i: u32| {
        record(
            "Microsoft-Windows-Security-SPP",
            12288,
            i,
            vec![format!("0x0,{i}")],
        )
    };
    let log = written((0..3).map(spp));
    let changed = with_an_int8_level(&log);
    let stats = |bytes: Vec<u8>| {
        crate::events::read_input(
            &rules,
            "Application.evtx",
            bytes,
            None,
            crate::events::Keep::Activation,
        )
        .unwrap()
        .1
    };
    let (before, after) = (stats(log), stats(changed));
    assert_eq!(before.declined.total(), 0);
    assert_eq!(
        after.declined.count(Decline::NumberValue(value_type::INT8)),
        1
    );
    // Nothing else about the read differs.
    assert_eq!(
        crate::events::ReadStats {
            declined: Declines::default(),
            ..after
        },
        before
    );
}

/// A substitution array of `values` (type, bytes) as a record carries it.
fn value_array(values: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut b = u32::try_from(values.len()).unwrap().to_le_bytes().to_vec();
    for (ty, v) in values {
        b.extend(u16::try_from(v.len()).unwrap().to_le_bytes());
        b.extend([*ty, 0]);
    }
    for (_, v) in values {
        b.extend(v);
    }
    b
}

fn utf16z(items: &[&str]) -> Vec<u8> {
    items
        .iter()
        .flat_map(|s| s.encode_utf16().chain([0]))
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[test]
fn values_of_windows_templates_render_as_the_crate_writes_them() {
    use super::template::{Child, Content};
    use super::values::{render, substitutions};
    let sid = [1u8, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
    let bytes = value_array(&[
        (
            value_type::STRING_ARRAY,
            utf16z(&["hr=0x803F7001", "", "x"]),
        ),
        (value_type::STRING_ARRAY, utf16z(&["one"])),
        (value_type::STRING_ARRAY, Vec::new()),
        (value_type::BINARY, vec![0x0A, 0xFF, 0x00]),
        (value_type::SID, sid.to_vec()),
        (value_type::HEXINT32, 0x2Au32.to_le_bytes().to_vec()),
        (value_type::HEXINT64, 0u64.to_le_bytes().to_vec()),
        (value_type::INT32, (-5i32).to_le_bytes().to_vec()),
        (value_type::BOOL, 1i32.to_le_bytes().to_vec()),
        (value_type::BOOL, 7i32.to_le_bytes().to_vec()),
        // No terminating NUL: left to the crate.
        (value_type::STRING_ARRAY, b"a\0".to_vec()),
        (value_type::SID, sid[..12].to_vec()),
    ]);
    let mut scratch = Vec::new();
    let subs = substitutions(&mut Cursor::at(&bytes, 0), &mut scratch).unwrap();
    let text = |i: u16| render(&[Child::Content(Content::Sub(i))], &subs);
    let items: Vec<String> = subs
        .get(0)
        .and_then(|v| v.array_items())
        .unwrap()
        .iter()
        .map(|b| super::cursor::utf16(b))
        .collect();
    assert_eq!(items, ["hr=0x803F7001", "", "x"]);
    // One item renders as itself, none as nothing; more repeat their `Data` element.
    assert_eq!(text(0), Err(Decline::UnsupportedValueType(0x81)));
    assert_eq!(text(1).unwrap(), "one");
    assert_eq!(text(2).unwrap(), "");
    assert_eq!(text(3).unwrap(), "0AFF00");
    assert_eq!(text(4).unwrap(), "S-1-5-32-544");
    assert_eq!(text(5).unwrap(), "0x2a");
    assert_eq!(text(6).unwrap(), "0x0");
    assert_eq!(text(7).unwrap(), "-5");
    assert_eq!(text(8).unwrap(), "true");
    assert_eq!(text(9).unwrap(), "7");
    assert_eq!(text(10), Err(Decline::UnsupportedValueType(0x81)));
    assert_eq!(
        text(11),
        Err(Decline::UnsupportedValueType(value_type::SID))
    );
}
