//! `kmsdiag events`: reads event logs and lists their activation events (or all events with
//! `--all`), sorted, through [`report::events`], with a note per input on stderr. A named input
//! that is no event log is an error; a file inside a directory or zip that is none is skipped.

use std::io::{self, Write};

use crate::cli::ExitStatus;
use crate::cli::{EventsArgs, EventsFormat};
use crate::events::{self, ActivationEvent, Keep, ReadStats};
use crate::input;
use crate::report::events::EventsInput;
use crate::report::{self, Style};
use crate::rules::Rules;

/// `kmsdiag events`.
pub(crate) fn run(
    args: &EventsArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let (all, inputs) = read(args, rules);
    match args.format {
        EventsFormat::Jsonl => report::events::write_jsonl(out, &all)?,
        EventsFormat::Json => report::events::write_json(out, &inputs, &all)?,
        EventsFormat::Text => report::events::write_text(out, style, &inputs, &all)?,
        EventsFormat::Csv => report::events::write_csv(out, &all)?,
    }
    if args.format != EventsFormat::Json {
        report::events::write_notes(&inputs);
    }
    let readable = inputs.iter().any(|i| i.format.is_some());
    let named_failed = inputs
        .iter()
        .any(|i| i.format.is_none() && args.paths.iter().any(|p| p.to_string_lossy() == i.path));
    Ok(if !readable || named_failed {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// Reads a post's text again without its decoration, as an event export; says what was removed.
fn undecorated(
    rules: &Rules,
    path: &str,
    bytes: &[u8],
    keep: Keep<'_>,
) -> Option<crate::events::EventsRead> {
    let decoded = crate::input::encoding::decode(bytes, &|_| 0);
    let plain = crate::input::decoration::undecorate(&decoded.text)?;
    let (evs, mut stats, format) =
        events::read_input(rules, path, plain.text.into_bytes(), None, keep).ok()?;
    let removed: Vec<&str> = plain.removed.iter().map(|d| d.as_str()).collect();
    stats.notes.push(format!(
        "read after removing the decoration of a post: {}",
        removed.join(", ")
    ));
    Some((evs, stats, format))
}

/// Reads every input: the events of all of them in sorted order, and what was read from each.
fn read(args: &EventsArgs, rules: &Rules) -> (Vec<ActivationEvent>, Vec<EventsInput>) {
    let keep = if args.all {
        Keep::All
    } else {
        Keep::Activation
    };
    let mut all = Vec::new();
    let mut inputs = Vec::new();
    for f in input::collect(&args.paths) {
        let (path, explicit) = (f.path.clone(), f.explicit);
        match read_one(rules, f, keep) {
            (Ok((evs, stats, format)), _) => {
                all.extend(evs);
                inputs.push(EventsInput {
                    path,
                    format: Some(format),
                    stats,
                    error: None,
                });
            }
            (Err(e), loud) => {
                // A file in a directory or zip that is no event log is skipped quietly; a named
                // one, or one that could not be read at all, is an error.
                if explicit || loud {
                    report::diagnostic("error", &e);
                }
                inputs.push(EventsInput {
                    path,
                    format: None,
                    stats: ReadStats::default(),
                    error: Some(e),
                });
            }
        }
    }
    events::sort(&mut all);
    (all, inputs)
}

/// One input's events; beside an error, whether it is reported whatever the input (the file
/// could not be read at all, or a large export read as a stream failed).
fn read_one(
    rules: &Rules,
    mut f: input::InputFile,
    keep: Keep<'_>,
) -> (Result<events::EventsRead, String>, bool) {
    // A large export in a format read as a stream is never loaded whole.
    if let Some(result) = events::stream::read_large(rules, &f, keep) {
        return (result.map_err(|e| e.to_string()), true);
    }
    f.load();
    let read_failed = f.bytes.is_err();
    // A small text that is no event export as given, or reads with damaged blocks, may be
    // one once the decoration of a post is removed (quote marks, Markdown, bullets, hard
    // breaks): kept for that second reading. Large exports are not copied.
    let post = f
        .bytes
        .as_ref()
        .ok()
        .filter(|b| b.len() <= crate::slmgr::MAX_INPUT_BYTES && !input::encoding::looks_binary(b))
        .cloned();
    let result = f
        .bytes
        .map_err(|e| format!("{}: {e}", f.path))
        .and_then(|b| {
            events::read_input(rules, &f.path, b, f.disk.as_deref(), keep)
                .map_err(|e| e.to_string())
        });
    let result = match (result, post) {
        (Err(e), Some(post)) => undecorated(rules, &f.path, &post, keep).ok_or(e),
        (Ok(read), Some(post)) if read.1.damaged_count > 0 => {
            match undecorated(rules, &f.path, &post, keep) {
                Some(plain) if plain.0.len() > read.0.len() => Ok(plain),
                _ => Ok(read),
            }
        }
        (result, _) => result,
    };
    (result, read_failed)
}
