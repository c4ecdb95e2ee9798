//! The terminal session around slmgr's output: machine headers (PowerShell transcript, `hostname`,
//! "Connected to server …"), the prompt lines that run slmgr and other commands, transcript
//! headers and rulers, and the decoration pastes add (quote marks, bullets). Pure judgements on
//! one prepared line; what they mean for the snapshot being read is the parser's business.

use super::vocab::Prepared;

/// Lines of a PowerShell transcript header.
const TRANSCRIPT: &[&str] = &[
    "windows powershell transcript",
    "start time:",
    "end time:",
    "username:",
    "runas user:",
    "configuration name:",
    "host application:",
    "process id:",
    "psversion:",
    "psedition:",
    "pscompatibleversions:",
    "buildversion:",
    "clrversion:",
    "wsmanstackversion:",
    "psremotingprotocolversion:",
    "serializationversion:",
    "transcript started, output file is",
];

/// Lines of the terminal session around slmgr's output: prompts running other commands,
/// PowerShell transcript headers and rulers. Understood, and of no interest.
pub(super) fn is_context(p: &Prepared) -> bool {
    let l = p.lower.as_str();
    if l.len() >= 3 && l.chars().all(|c| matches!(c, '*' | '=' | '-' | '_' | '#')) {
        return true;
    }
    if TRANSCRIPT.iter().any(|t| l.starts_with(t)) {
        return true;
    }
    // The Windows Script Host banner, in any language (its product name is not translated).
    if l.contains("windows script host") || l.starts_with("copyright (c) microsoft") {
        return true;
    }
    // A prompt: "PS C:\Users\me> …" or "C:\Windows\system32>…".
    let prompt_end = l.find('>');

    prompt_end.is_some_and(|end| {
        let head = l.get(..end).unwrap_or("");
        let head = head.strip_prefix("ps ").unwrap_or(head);
        let b = head.as_bytes();
        b.len() >= 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':')
    })
}

/// Removes the decoration pastes add: list bullets, quote marks, and leading spaces.
pub(super) fn strip_decoration(line: &str) -> &str {
    let mut t = line.trim_start();
    // Quote marks may nest ("> > "), and a quoted blank line is just ">".
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.trim_start();
    }
    for prefix in ["- ", "* ", "\u{2022} "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim_start();
        }
    }
    t
}

/// The machine a header line names, if it is one.
pub(super) fn machine_name(p: &Prepared) -> Option<String> {
    let lower = p.lower.as_str();
    let work = p.work.as_str();
    let value_after = |prefixes: &[&str]| {
        prefixes.iter().find_map(|pre| {
            lower
                .strip_prefix(pre)
                .map(|_| work.get(pre.len()..).unwrap_or("").trim())
        })
    };
    // PowerShell transcript: "Machine: PC042 (Microsoft Windows NT 10.0.19045.0)".
    if let Some(rest) = value_after(&["machine:"]) {
        let name = rest.split_whitespace().next()?;
        return rest.contains('(').then(|| clean_name(name)).flatten();
    }
    if let Some(rest) = value_after(&[
        "computer name:",
        "computername:",
        "computername=",
        "host name:",
        "hostname:",
    ]) {
        let mut words = rest.split_whitespace();
        let name = words.next()?;
        return words.next().is_none().then(|| clean_name(name)).flatten();
    }
    // slmgr.vbs run against a remote machine: "Connected to server PC042."
    if let Some(rest) = value_after(&["connected to server "]) {
        return clean_name(rest.trim_end_matches('.'));
    }
    None
}

/// The slmgr option a command line runs (`C:\> cscript slmgr.vbs /ato` gives `ato`), if the line
/// runs slmgr at all.
pub(super) fn slmgr_option(p: &Prepared) -> Option<String> {
    let pos = p.lower.find("slmgr")?;
    let after = p.lower.get(pos..).unwrap_or("");
    let option = after
        .split_whitespace()
        .skip(1)
        .find_map(|w| w.strip_prefix('/').or_else(|| w.strip_prefix('-')))
        .map(|o| o.trim_end_matches(['.', ',']).to_owned())?;
    // A prose sentence mentioning slmgr is not a command line.
    let before = p.lower.get(..pos).unwrap_or("");
    if before.split_whitespace().count() > 4 {
        return None;
    }
    Some(option)
}

fn clean_name(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| s.to_owned())
}
