//! Which reader takes an input, by its content: an `.evtx` log (its header damaged too), slmgr
//! text, an event export (XML, JSON, CSV/text), or, as the last rung, any text that mentions
//! result codes (the evidence reader); binary content that is no log goes to no text reader; why none did when an input is unreadable; what became of each input; and the same
//! record read twice (two exports of one log) counted once.

use crate::events::{ActivationEvent, Keep};
use crate::input::InputFile;
use crate::model::snapshot::LicenseSnapshot;
use crate::model::{InputFormat, InputStatus, InputSummary};
use crate::rules::Rules;
use crate::slmgr::{SlmgrError, SlmgrReader};

/// Drops events read twice (an `.evtx` and its XML export, two copies of one log): same machine,
/// provider, id, record id and time, or, without a record id, the same payload at the same time.
pub(super) fn dedup_events(events: &mut Vec<ActivationEvent>) {
    // Sorted by machine, time and record id: copies of one record sit in one run of equal keys.
    // In place: the events kept are moved to the front.
    let same_slot = |a: &ActivationEvent, b: &ActivationEvent| {
        a.time == b.time
            && a.record_id == b.record_id
            && crate::events::same_name(a.machine(), b.machine()).is_eq()
    };
    let same_event = |a: &ActivationEvent, b: &ActivationEvent| {
        a.provider() == b.provider()
            && a.event_id == b.event_id
            && a.log() == b.log()
            && (a.record_id.is_some() || a.payload.raw().eq(b.payload.raw()))
    };
    let mut kept = 0;
    let mut run_start = 0;
    for i in 0..events.len() {
        let (front, rest) = events.split_at_mut(i);
        let Some(e) = rest.first() else { break };
        let front = front.get(..kept).unwrap_or(&[]);
        if front.last().is_none_or(|l| !same_slot(l, e)) {
            run_start = kept;
        }
        let dup = front
            .get(run_start..)
            .is_some_and(|run| run.iter().any(|k| same_event(k, e)));
        if !dup {
            // Nearly every event is kept where it is: no swap (a write) for those.
            if kept != i {
                events.swap(kept, i);
            }
            kept += 1;
        }
    }
    events.truncate(kept);
    drop_text_copies(events);
}

/// Drops events of a text export (Event Viewer text or CSV: no record id) that are a record an
/// `.evtx` or XML export of the same log also holds: same machine, provider, id, log, time and
/// payload. Sorted by record id, such copies do not stand beside their original, so they are
/// looked up; only done when an input mixes events with and without record ids.
fn drop_text_copies(events: &mut Vec<ActivationEvent>) {
    if !events.iter().any(|e| e.record_id.is_none()) || events.iter().all(|e| e.record_id.is_none())
    {
        return;
    }
    let key =
        |e: &ActivationEvent| -> (String, String, u32, Option<chrono::DateTime<chrono::Utc>>) {
            (
                e.machine().to_ascii_lowercase(),
                e.provider().to_ascii_lowercase(),
                e.event_id,
                e.time,
            )
        };
    let mut with_id: std::collections::HashMap<_, Vec<usize>> = std::collections::HashMap::new();
    for (i, e) in events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.record_id.is_some())
    {
        with_id.entry(key(e)).or_default().push(i);
    }
    let copies: Vec<bool> = events
        .iter()
        .map(|e| {
            e.record_id.is_none()
                && with_id.get(&key(e)).is_some_and(|originals| {
                    originals.iter().any(|&i| {
                        events.get(i).is_some_and(|o| {
                            o.log() == e.log() && o.payload.raw().eq(e.payload.raw())
                        })
                    })
                })
        })
        .collect();
    let mut flags = copies.into_iter();
    events.retain(|_| !flags.next().unwrap_or(false));
}

pub(super) fn read_events(
    rules: &Rules,
    path: &str,
    disk: Option<&std::path::Path>,
    bytes: Vec<u8>,
    summary: &mut InputSummary,
) -> Option<Vec<ActivationEvent>> {
    let read = crate::events::read_input(
        rules,
        path,
        bytes,
        disk,
        Keep::Ids(crate::model::ids::event::CORRELATED),
    );
    summarize(read, summary)
}

/// Fills an event log's input summary from what reading it gave; its events.
pub(super) fn summarize(
    read: Result<crate::events::EventsRead, crate::events::EventReadError>,
    summary: &mut InputSummary,
) -> Option<Vec<ActivationEvent>> {
    match read {
        Ok((events, stats, format)) => {
            summary.format = format;
            summary.status = if stats.damaged_count > 0 {
                InputStatus::Partial
            } else {
                InputStatus::Read
            };
            // The events of an input share one `Arc` per machine name: a run of one is taken
            // once (a host log's hundreds of thousands of events name one machine).
            let mut machines: Vec<&str> = Vec::new();
            let mut last: Option<&std::sync::Arc<str>> = None;
            for m in events.iter().map(ActivationEvent::machine) {
                if last.is_none_or(|l| !std::sync::Arc::ptr_eq(l, m)) {
                    machines.push(m);
                    last = Some(m);
                }
            }
            machines.sort_unstable();
            machines.dedup();
            summary.machines = machines.into_iter().map(str::to_owned).collect();
            summary.lines = u32::try_from(stats.records).unwrap_or(u32::MAX);
            summary.warnings.extend(stats.notes);
            summary.evtx_chunks_declined = stats
                .declined
                .iter()
                .map(|(why, chunks)| (why.to_string(), chunks))
                .collect();
            if stats.damaged_count > 0 {
                summary.warnings.push(format!(
                    "{} damaged record(s) or chunk(s) could not be read; the rest was analyzed",
                    stats.damaged_count
                ));
                summary.warnings.extend(stats.damaged);
            }
            Some(events)
        }
        Err(e) => {
            summary.format = InputFormat::EventLog;
            summary.error = Some(e.to_string());
            None
        }
    }
}

/// The summary of an input before anything is known of it.
pub(super) fn blank_summary(path: &str) -> InputSummary {
    InputSummary {
        path: path.to_owned(),
        format: InputFormat::Unknown,
        status: InputStatus::Unreadable,
        encoding: None,
        languages: Vec::new(),
        machines: Vec::new(),
        lines: 0,
        not_understood: Vec::new(),
        warnings: Vec::new(),
        error: None,
        evtx_chunks_declined: std::collections::BTreeMap::new(),
        decoration_removed: Vec::new(),
    }
}

/// What one reader made of an input.
type Read = (Vec<LicenseSnapshot>, Vec<ActivationEvent>, InputSummary);

/// Reads one input down the ladder: a binary event log; the strict text readers (event exports,
/// then slmgr text); the same readers again after removing the decoration of a post (quote
/// marks, Markdown, bullets, a time stamp on every line) when the text as given did not read
/// cleanly; last, for inputs given by name, the evidence reader (result codes in any text).
pub(super) fn read_one(rules: &Rules, reader: &SlmgrReader, f: InputFile) -> Read {
    let explicit = f.explicit;
    let mut read = read_ladder(rules, reader, f);
    // Only inputs given by name: notes and expectations beside outputs in a folder mention codes
    // too, and are no machine's evidence (as for the evidence reader).
    if explicit && matches!(read.2.format, InputFormat::Slmgr | InputFormat::Ospp) {
        let found = mention_unread(rules, &mut read.0);
        if found > 0 {
            read.2.warnings.push(format!(
                "{found} result code(s) read from running text between the fields (lines the reader did not understand)"
            ));
        }
    }
    read
}

/// [`read_one`]'s ladder.
fn read_ladder(rules: &Rules, reader: &SlmgrReader, f: InputFile) -> Read {
    let mut summary = blank_summary(&f.path);
    // A large export in a format read as a stream is never loaded whole.
    let keep = Keep::Ids(crate::model::ids::event::CORRELATED);
    if let Some(read) = crate::events::stream::read_large(rules, &f, keep) {
        let events = summarize(read, &mut summary).unwrap_or_default();
        return (Vec::new(), events, summary);
    }
    let mut f = f;
    f.load();
    let InputFile {
        path,
        explicit,
        bytes,
        disk,
        deferred: _,
    } = f;
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            summary.error = Some(e.to_string());
            return (Vec::new(), Vec::new(), summary);
        }
    };
    // Binary event logs never go through the text decoders, nor does any other binary content
    // (a program, an image, a log whose chunks are gone too): no text reader can read it.
    if crate::events::evtx::salvage::is_log(&bytes) {
        let events =
            read_events(rules, &path, disk.as_deref(), bytes, &mut summary).unwrap_or_default();
        return (Vec::new(), events, summary);
    }
    if crate::input::encoding::looks_binary(&bytes) {
        summary.status = if explicit {
            InputStatus::Unreadable
        } else {
            InputStatus::Skipped
        };
        summary.error = Some(unrecognized(&path, &bytes));
        return (Vec::new(), Vec::new(), summary);
    }
    // Event exports (XML, JSON, CSV/text) are recognised by their content; they can be large,
    // and their bytes move to their reader.
    if let Some(format) = crate::events::detect(rules, &bytes) {
        // A post's event text with decoration on every line (a Markdown hard break, quote
        // marks) reads with damaged blocks as given: it is read again without it. A log file
        // is no post: its bytes are not copied.
        let post = (format != InputFormat::Evtx && bytes.len() <= crate::slmgr::MAX_INPUT_BYTES)
            .then(|| bytes.clone());
        let events =
            read_events(rules, &path, disk.as_deref(), bytes, &mut summary).unwrap_or_default();
        if summary.status != InputStatus::Read
            && let Some(post) = post
            && let Some(better) =
                undecorated(rules, reader, &path, &post, rank(&summary), events.len())
        {
            return better;
        }
        return (Vec::new(), events, summary);
    }
    let first = read_text(rules, reader, &path, &bytes);
    let clean = |r: &Result<Read, SlmgrError>| {
        r.as_ref()
            .is_ok_and(|(_, _, s)| s.status == InputStatus::Read)
    };
    if clean(&first) {
        return first.unwrap_or_else(|_| (Vec::new(), Vec::new(), summary));
    }
    let beat = first.as_ref().map_or(0, |(_, _, f)| rank(f));
    if let Some(second) = undecorated(rules, reader, &path, &bytes, beat, usize::MAX) {
        return second;
    }
    match first {
        Ok(read) => read,
        Err(e) => {
            // Only inputs given by name: notes, rule files and expectations that lie beside
            // outputs in a folder or bundle mention codes too, and are no machine's evidence.
            if matches!(e, SlmgrError::NotSlmgr { .. })
                && explicit
                && let Some(snap) = crate::evidence::read(rules, reader, &path, &bytes)
            {
                read_as_evidence(&snap, &mut summary);
                return (vec![snap], Vec::new(), summary);
            }
            if matches!(e, SlmgrError::NotSlmgr { .. }) && !explicit {
                summary.status = InputStatus::Skipped;
            }
            summary.error = Some(match e {
                SlmgrError::NotSlmgr { .. } => unrecognized(&path, &bytes),
                other @ SlmgrError::TooLarge { .. } => other.to_string(),
            });
            (Vec::new(), Vec::new(), summary)
        }
    }
}

/// The strict readers again on a post's text without its decoration (posts are small: a text
/// too large for the slmgr reader is not read again): that read when it ranks above `beat` (see
/// [`rank`]) or finds more than `events` events, with what was removed named.
fn undecorated(
    rules: &Rules,
    reader: &SlmgrReader,
    path: &str,
    bytes: &[u8],
    beat: usize,
    events: usize,
) -> Option<Read> {
    if bytes.len() > crate::slmgr::MAX_INPUT_BYTES {
        return None;
    }
    let decoded = reader.decode(bytes);
    let plain = crate::input::decoration::undecorate(&decoded.text)?;
    let (snaps, evs, mut s) = read_text(rules, reader, path, plain.text.as_bytes()).ok()?;
    if rank(&s) <= beat && evs.len() <= events {
        return None;
    }
    let removed: Vec<&str> = plain.removed.iter().map(|d| d.as_str()).collect();
    s.warnings.insert(
        0,
        format!(
            "read after removing the decoration of a post: {}",
            removed.join(", ")
        ),
    );
    s.decoration_removed = plain.removed;
    if s.encoding.is_some() {
        s.encoding = Some(decoded.encoding.to_owned());
    }
    Some((snaps, evs, s))
}

/// How well an input was read, to choose between the text as given and without decoration:
/// read cleanly, then read with fewer lines not understood.
fn rank(s: &InputSummary) -> usize {
    let unknown = s
        .not_understood
        .iter()
        .filter(|n| n.taken_as.is_none())
        .count();
    match s.status {
        InputStatus::Read => usize::MAX,
        InputStatus::Partial => usize::MAX / 2 - unknown.min(usize::MAX / 4),
        InputStatus::Skipped | InputStatus::Unreadable => 0,
    }
}

/// The strict text readers on a text: an event export (XML, JSON, CSV/text, recognised by its
/// content), then a licensing inventory, Office's ospp.vbs output, then slmgr text.
fn read_text(
    rules: &Rules,
    reader: &SlmgrReader,
    path: &str,
    bytes: &[u8],
) -> Result<Read, SlmgrError> {
    let mut summary = blank_summary(path);
    if crate::events::detect(rules, bytes).is_some() {
        let events = read_events(rules, path, None, bytes.to_vec(), &mut summary);
        if let Some(events) = events {
            return Ok((Vec::new(), events, summary));
        }
    }
    // A licensing inventory's property lines would otherwise pass for slmgr's.
    if let Some(snaps) = crate::inventory::read(rules, path, bytes) {
        read_as_inventory(&snaps, &mut summary);
        return Ok((snaps, Vec::new(), summary));
    }
    // Office's ospp.vbs output, by its shape, before the slmgr reader would take its lines.
    if let Some(snaps) = crate::ospp::read(rules, path, bytes) {
        read_as_licence_text(InputFormat::Ospp, &snaps, &mut summary);
        return Ok((snaps, Vec::new(), summary));
    }
    let snaps = reader.parse(path, bytes)?;
    read_as_licence_text(InputFormat::Slmgr, &snaps, &mut summary);
    Ok((snaps, Vec::new(), summary))
}

/// The result codes in the lines a licence-text reader did not understand (a post's sentences
/// between the fields it pasted), kept as mentions, as the evidence reader keeps them in prose;
/// how many.
fn mention_unread(rules: &Rules, snaps: &mut [LicenseSnapshot]) -> usize {
    let mut total = 0;
    for s in snaps.iter_mut().filter(|s| s.mentions.is_empty()) {
        let unread = s
            .not_understood
            .iter()
            .filter(|n| n.taken_as.is_none())
            .map(|n| &n.line);
        let found = crate::evidence::mentions_in(rules, unread);
        total += found.len();
        s.mentions.extend(found);
    }
    total
}

/// Fills the summary of a text a licence-text reader (slmgr, ospp) took: its format, encoding,
/// languages, machines and the lines it did not understand (any not recovered makes it partial).
fn read_as_licence_text(
    format: InputFormat,
    snaps: &[LicenseSnapshot],
    summary: &mut InputSummary,
) {
    summary.format = format;
    summary.encoding = snaps.first().map(|s| s.encoding.clone());
    for s in snaps {
        for l in &s.languages {
            if !summary.languages.contains(l) {
                summary.languages.push(l.clone());
            }
        }
        summary.machines.push(
            s.machine
                .clone()
                .unwrap_or_else(|| crate::model::names::machine_from_path(&s.path)),
        );
        summary.lines = summary.lines.saturating_add(s.lines_read);
        summary
            .not_understood
            .extend(s.not_understood.iter().cloned());
        summary.warnings.extend(s.warnings.iter().cloned());
    }
    summary.status = if summary.not_understood.iter().any(|n| n.taken_as.is_none()) {
        InputStatus::Partial
    } else {
        InputStatus::Read
    };
}

/// Fills the summary of a text the evidence reader took: which rung read it and what it holds.
fn read_as_evidence(snap: &LicenseSnapshot, summary: &mut InputSummary) {
    summary.format = InputFormat::TextEvidence;
    summary.status = InputStatus::Read;
    summary.encoding = Some(snap.encoding.clone());
    summary.machines.push(
        snap.machine
            .clone()
            .unwrap_or_else(|| crate::model::names::machine_from_path(&snap.path)),
    );
    summary.lines = snap.lines_read;
    summary.warnings.push(if snap.expiry.is_empty() {
        "read as prose: result codes found in running text (no license state)".to_owned()
    } else {
        "read as prose: result codes and a quoted slmgr /xpr license state found in running text"
            .to_owned()
    });
    summary.warnings.extend(snap.warnings.iter().cloned());
}

/// Fills the summary of a licensing inventory: its machines (or the file's name for one without).
fn read_as_inventory(snaps: &[LicenseSnapshot], summary: &mut InputSummary) {
    summary.format = InputFormat::WmiInventory;
    summary.status = InputStatus::Read;
    summary.encoding = snaps.first().map(|s| s.encoding.clone());
    summary.lines = snaps.first().map_or(0, |s| s.lines_read);
    for s in snaps {
        summary.machines.push(
            s.machine
                .clone()
                .unwrap_or_else(|| crate::model::names::machine_from_path(&s.path)),
        );
        summary.warnings.extend(s.warnings.iter().cloned());
    }
}

/// Why an input is neither slmgr output nor an event log, in words that say what to do.
pub(super) fn unrecognized(path: &str, bytes: &[u8]) -> String {
    let evtx_name = std::path::Path::new(path)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("evtx"));
    if bytes.is_empty() {
        format!("{path}: the file is empty")
    } else if evtx_name {
        format!(
            "{path}: named .evtx but not an event log file (no ElfFile signature at its start); export the log again with Event Viewer or `wevtutil epl`"
        )
    } else if crate::input::encoding::looks_binary(bytes) {
        format!(
            "{path}: binary content, not text and not an event log kmsdiag reads (no ElfFile or ElfChnk signature); give the .evtx log, or the text of slmgr, ospp or an event export"
        )
    } else {
        format!(
            "{path}: not a format kmsdiag reads: slmgr or ospp.vbs output, a WMI licensing inventory, an event log (.evtx, event XML, evtx_dump or Get-WinEvent JSON, Event Viewer CSV/text, Export-Csv, Format-List) or a SIEM/shipper export of one; `kmsdiag collect` prints the queries that export them"
        )
    }
}
