//! Machine identity: the name a file's path suggests (its folder for a per-machine layout, its
//! file name when that looks like a machine and not like a log), the one comparison of machine
//! names ([`same_machine`]: case ignored, `ws01` is `ws01.contoso.com`, `PC01$` is `PC01`, a
//! 15-character `NetBIOS` name is the longer DNS name it was cut from), and the [`Directory`] that
//! gives every spelling of one machine in a fleet one name (and a renamed machine its newest),
//! and the one order names are shown in ([`natural_cmp`]: `br2` before `br10`). Plain functions
//! of strings: every stage that meets a machine name asks here.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::NameSource;

/// Stems slmgr output is saved under that name the command, not the machine.
const COMMAND_STEMS: &[&str] = &[
    "dli",
    "dlv",
    "dlvall",
    "dlv_all",
    "dlv-all",
    "xpr",
    "ato",
    "ipk",
    "output",
    "out",
    "license",
    "licence",
    "activation",
    "status",
    "all",
];

/// Whether a file stem names a command's output (`dlv`, `slmgr-dli`, …), not a machine.
fn command_stem(stem: &str) -> bool {
    let s = stem.to_ascii_lowercase();
    let s = s
        .trim_start_matches("slmgr")
        .trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let s = s
        .trim_start_matches("vbs")
        .trim_matches(|c: char| !c.is_ascii_alphanumeric());
    s.is_empty() || COMMAND_STEMS.contains(&s)
}

/// The machine name a path suggests: the file name without extension, or the folder's name when
/// the file is only named after the command (`PC042/dlv.txt` → `PC042`).
pub(crate) fn machine_from_path(full: &str) -> String {
    name_from_path(full, &|_| false).0
}

/// The machine name a path suggests and where it came from: the folder's name when the file is
/// named after a command or a log (`PC01/Application.csv`, `PC042/dlv.txt`, a zip's `PC042/…`),
/// else the file name (`PC042.txt`). `is_log` says whether a file stem is a log's name (the
/// event catalogue's list). A log-named file with no folder keeps its file name: only the user
/// can name it (`--machine-name`).
pub(crate) fn name_from_path(full: &str, is_log: &dyn Fn(&str) -> bool) -> (String, NameSource) {
    // Inside a zip (`bundle.zip!PC042/dlv.txt`) the inner path names the machine; an entry at the
    // archive's top level is named after the archive.
    let (archive, path) = match full.rsplit_once('!') {
        Some((outer, inner)) => (Some(outer), inner),
        None => (None, full),
    };
    let p = std::path::Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("stdin");
    let generic = command_stem(stem) || is_log(stem.trim());
    if generic
        && let Some(dir) = p
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
        && !dir.is_empty()
        && !is_log(dir)
    {
        return (dir.to_owned(), NameSource::Folder);
    }
    if generic && let Some(outer) = archive {
        let (name, source) = name_from_path(outer, is_log);
        let source = if source == NameSource::FileName {
            NameSource::Folder
        } else {
            source
        };
        return (name, source);
    }
    (stem.to_owned(), NameSource::FileName)
}

/// Whether a file (as the user named it on the command line) is the input at `path`: the same
/// path, or the same trailing path components (`Application.csv` names `PC01/Application.csv`
/// only when no other input ends so; the caller decides ties by taking every match).
pub(crate) fn path_matches(path: &str, file: &str) -> bool {
    let norm = |s: &str| s.replace('\\', "/");
    let (path, file) = (norm(path), norm(file));
    let file = file.trim_start_matches("./");
    path == file || path.ends_with(&format!("/{file}")) || path.ends_with(&format!("!{file}"))
}

/// The better of two sources of one machine's name: the record's own, then the user's, the
/// folder's, the file name's.
pub(crate) fn better_source(a: NameSource, b: NameSource) -> NameSource {
    let rank = |s: NameSource| match s {
        NameSource::Text => 0,
        NameSource::Flag => 1,
        NameSource::Folder => 2,
        NameSource::FileName => 3,
    };
    if rank(b) < rank(a) { b } else { a }
}

/// A name as compared: trimmed, without a trailing `$` (a computer account) or `.` (a rooted
/// DNS name).
fn bare(s: &str) -> &str {
    s.trim().trim_end_matches('$').trim_end_matches('.')
}

/// Whether `short` is the 15-character `NetBIOS` name cut from the longer host name `long`.
fn netbios_cut(short: &str, long: &str) -> bool {
    short.len() == 15
        && long.len() > 15
        && long
            .get(..15)
            .is_some_and(|head| head.eq_ignore_ascii_case(short))
}

/// Whether two machine names name one machine: case ignored; `ws01` is `ws01.contoso.com` (a
/// short name against a DNS name's first label; two DNS names only when equal), `PC01$` is
/// `PC01`, and a 15-character `NetBIOS` name is the longer host name it was cut from.
pub(crate) fn same_machine(a: &str, b: &str) -> bool {
    fn first(s: &str) -> &str {
        s.split('.').next().unwrap_or("")
    }
    let (a, b) = (bare(a), bare(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.contains('.') && b.contains('.') {
        return false;
    }
    let (x, y) = (first(a), first(b));
    !x.is_empty() && (x.eq_ignore_ascii_case(y) || netbios_cut(x, y) || netbios_cut(y, x))
}

/// Compares two names as ASCII-case-insensitive, without allocating.
pub(crate) fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The group a name's possible matches share: its first label, lower-case, without `$`, cut to
/// 15 bytes as a `NetBIOS` name is (every name [`same_machine`] can match has the same key).
pub(crate) fn machine_key(s: &str) -> String {
    let first = bare(s).split('.').next().unwrap_or("");
    let mut k = first.to_ascii_lowercase();
    // The cut `netbios_cut` compares: 15 bytes, where that is a character boundary (a name
    // whose 15th byte falls inside a character is matched only whole).
    if k.len() > 15 && k.is_char_boundary(15) {
        k.truncate(15);
    }
    k
}

/// One name for every spelling of a machine in a fleet: `PC01`, `pc01$` and the one DNS name
/// `pc01.corp.contoso.com` they can stand for are one machine, named by its DNS name (a short
/// name that could be either of two DNS names is left alone); a renamed machine's old names are
/// its newest. Names it has nothing to say of are their own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    /// Lower-cased spelling → the machine's name, for the spellings that change.
    names: BTreeMap<String, Arc<str>>,
    /// Renamed machines' old names and their newest: any spelling of an old name (a host's
    /// `OLD.corp.example.net` for a log's `OLD`) is the machine.
    renamed: Vec<(String, Arc<str>)>,
}

impl Directory {
    /// The directory of these spellings (the machine names a fleet's events carry).
    pub(crate) fn of<'a>(spellings: impl IntoIterator<Item = &'a str>) -> Directory {
        let distinct: BTreeSet<&str> = spellings.into_iter().map(str::trim).collect();
        let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for s in distinct.into_iter().filter(|s| !bare(s).is_empty()) {
            groups.entry(machine_key(s)).or_default().push(s);
        }
        let mut names = BTreeMap::new();
        for members in groups.values().filter(|m| m.len() > 1) {
            for s in members {
                // Every spelling it matches; the DNS names among them when there are any.
                let matches: Vec<&str> = members
                    .iter()
                    .copied()
                    .filter(|o| same_machine(s, o))
                    .collect();
                let dns: BTreeSet<String> = matches
                    .iter()
                    .filter(|o| bare(o).contains('.'))
                    .map(|o| bare(o).to_ascii_lowercase())
                    .collect();
                let chosen = match dns.len() {
                    0 => matches.iter().copied().min_by(preference),
                    1 => matches
                        .iter()
                        .copied()
                        .filter(|o| bare(o).contains('.'))
                        .min_by(preference),
                    // Ambiguous: `ws01` could be either `ws01.a.com` or `ws01.b.com`.
                    _ if !bare(s).contains('.') => None,
                    _ => matches
                        .iter()
                        .copied()
                        .filter(|o| bare(o).eq_ignore_ascii_case(bare(s)))
                        .min_by(preference),
                };
                if let Some(c) = chosen.filter(|c| c != s) {
                    names.insert(s.to_ascii_lowercase(), Arc::from(c));
                }
            }
        }
        Directory {
            names,
            renamed: Vec::new(),
        }
    }

    /// Names `old` (and every spelling already named as it) by `new` from now on: a renamed
    /// machine.
    pub(crate) fn rename(&mut self, old: &str, new: &str) {
        let new: Arc<str> = Arc::from(self.resolve(new).trim());
        let old_name = self.resolve(old).trim().to_owned();
        for v in self.names.values_mut() {
            if v.eq_ignore_ascii_case(&old_name) {
                *v = new.clone();
            }
        }
        for (_, v) in &mut self.renamed {
            if v.eq_ignore_ascii_case(&old_name) {
                *v = new.clone();
            }
        }
        self.renamed.push((old.trim().to_owned(), new.clone()));
        self.names
            .insert(old.trim().to_ascii_lowercase(), new.clone());
        self.names.insert(old_name.to_ascii_lowercase(), new);
    }

    /// The machine's name for a spelling, when it differs from the spelling.
    pub(crate) fn name(&self, spelling: &str) -> Option<&Arc<str>> {
        if self.names.is_empty() {
            return None;
        }
        self.names
            .get(&spelling.trim().to_ascii_lowercase())
            .or_else(|| {
                self.renamed
                    .iter()
                    .find(|(old, _)| same_machine(old, spelling))
                    .map(|(_, new)| new)
            })
            .filter(|n| !n.eq_ignore_ascii_case(spelling.trim()))
    }

    /// The machine's name for a spelling (the spelling itself when the directory has none).
    pub(crate) fn resolve<'a>(&'a self, spelling: &'a str) -> &'a str {
        self.name(spelling).map_or(spelling, |n| n)
    }

    /// Whether no spelling changes.
    pub(crate) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Which of two spellings of one machine names it: the one without `$`, the longer (a DNS name
/// or the full host name over its `NetBIOS` cut), then the first in order.
fn preference(a: &&str, b: &&str) -> Ordering {
    let dollar = |s: &str| s.trim().ends_with('$');
    dollar(a)
        .cmp(&dollar(b))
        .then_with(|| bare(b).len().cmp(&bare(a).len()))
        .then_with(|| a.cmp(b))
}

/// The order every report shows names in: case ignored, runs of digits compared as numbers
/// (`br2` before `br10`, `ws002` beside `ws2`), then (for names these call equal) the shorter
/// digit run and finally the bytes, so the order is total and the same on every run. Digit runs
/// of any length compare without overflow (leading zeros skipped, then by length, then digit by
/// digit).
pub(crate) fn natural_cmp(left: &str, right: &str) -> Ordering {
    let (mut x, mut y) = (left.as_bytes(), right.as_bytes());
    // Ties that only the end may break: which had more leading zeros first.
    let mut zeros = Ordering::Equal;
    loop {
        match (x.first(), y.first()) {
            (None, None) => break,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let (run_x, rest_x) = digit_run(x);
                let (run_y, rest_y) = digit_run(y);
                let (value_x, value_y) = (trim_zeros(run_x), trim_zeros(run_y));
                let by_value = value_x
                    .len()
                    .cmp(&value_y.len())
                    .then_with(|| value_x.cmp(value_y));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                if zeros == Ordering::Equal {
                    zeros = run_x.len().cmp(&run_y.len());
                }
                (x, y) = (rest_x, rest_y);
            }
            (Some(p), Some(q)) => {
                let by_char = p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase());
                if by_char != Ordering::Equal {
                    return by_char;
                }
                x = x.get(1..).unwrap_or_default();
                y = y.get(1..).unwrap_or_default();
            }
        }
    }
    zeros.then_with(|| left.cmp(right))
}

/// The leading run of ASCII digits of `s`, and what follows it.
fn digit_run(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n.min(s.len()))
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    s.get(n..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_one_machine_share_a_key() {
        let names = [
            "PC01",
            "pc01$",
            "pc01.corp.contoso.com.",
            " PC01 ",
            "ACCOUNTING-WS-0",
            "accounting-ws-0123.corp.example",
            "ACCOUNTING-WS-01",
            "ÄRZTE-PRAXIS-01",
            "ärzte-praxis-0123.example",
            "ÄRZTE-PRAXIS-0",
            "ÄRZTE-PRAXIS-0123.example",
            "kantoor-werkplek",
            "kantoor-werkplek-07.example",
            "",
            "$",
        ];
        for a in names {
            for b in names {
                if same_machine(a, b) {
                    assert_eq!(machine_key(a), machine_key(b), "{a:?} and {b:?}");
                }
            }
        }
    }

    #[test]
    fn names_sort_naturally_and_totally() {
        let mut names = vec![
            "br10",
            "BR2",
            "br1",
            "ws002",
            "ws2",
            "ws02.contoso.com",
            "a",
            "",
            "br2",
            "kms01",
            "br99999999999999999999999",
            "br100000000000000000000000",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "",
                "a",
                "br1",
                "BR2",
                "br2",
                "br10",
                "br99999999999999999999999",
                "br100000000000000000000000",
                "kms01",
                "ws2",
                "ws002",
                "ws02.contoso.com",
            ]
        );
        assert_eq!(natural_cmp("ws2", "ws002"), Ordering::Less);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }

    #[test]
    fn names_compare_short_to_dns_case_free_without_dollar_and_netbios_cut() {
        assert!(same_machine("WS01", "ws01.contoso.com"));
        assert!(same_machine("ws01.contoso.com", "WS01.CONTOSO.COM"));
        assert!(same_machine("PC01$", "pc01.corp.contoso.com"));
        assert!(same_machine("PC01$", "pc01"));
        assert!(same_machine(
            "ACCOUNTING-LAPT",
            "accounting-laptop-07.corp.example"
        ));
        assert!(same_machine("ACCOUNTING-LAPT", "Accounting-Laptop-07"));
        assert!(!same_machine("ACCOUNTING-LAP", "accounting-laptop-07"));
        assert!(!same_machine("ws01.a.com", "ws01.b.com"));
        assert!(!same_machine("ws01", "ws02"));
        assert!(!same_machine("", "ws02"));
        assert!(!same_machine("$", "."));
        assert_eq!(cmp_ignore_case("PC-A", "pc-b"), Ordering::Less);
        assert_eq!(cmp_ignore_case("pc-a", "PC-A"), Ordering::Equal);
    }

    #[test]
    fn machine_names_from_paths() {
        assert_eq!(machine_from_path("bundle/PC042/dlv.txt"), "PC042");
        assert_eq!(machine_from_path("bundle/PC042/slmgr-dli.txt"), "PC042");
        assert_eq!(machine_from_path("PC042.txt"), "PC042");
        assert_eq!(machine_from_path("tickets/LAPTOP-7.log"), "LAPTOP-7");
        assert_eq!(machine_from_path("-"), "-");
        assert_eq!(machine_from_path("/tmp/ticket.zip!PC042/dlv.txt"), "PC042");
        assert_eq!(
            machine_from_path("/tmp/ticket.zip!more/inner.zip!PC077/slmgr-dlv.txt"),
            "PC077"
        );
        assert_eq!(machine_from_path("/tmp/ticket.zip!dlv.txt"), "ticket");
    }

    #[test]
    fn log_named_exports_are_named_by_their_folder() {
        let logs = |s: &str| {
            ["application", "key management service"].contains(&s.to_ascii_lowercase().as_str())
        };
        let from = |p: &str| name_from_path(p, &logs);
        assert_eq!(
            from("x/PC01/Application.csv"),
            ("PC01".into(), NameSource::Folder)
        );
        assert_eq!(
            from("kms01/Key Management Service.csv"),
            ("kms01".into(), NameSource::Folder)
        );
        assert_eq!(
            from("b.zip!PC042/Application.evtx"),
            ("PC042".into(), NameSource::Folder)
        );
        assert_eq!(from("PC07.csv"), ("PC07".into(), NameSource::FileName));
        // Nothing else names it: the file name stays (the user names it with a flag).
        assert_eq!(
            from("Application.csv"),
            ("Application".into(), NameSource::FileName)
        );
        assert!(path_matches(
            "exports/PC01/Application.csv",
            "PC01/Application.csv"
        ));
        assert!(path_matches(
            "exports\\PC01\\Application.csv",
            "Application.csv"
        ));
        assert!(path_matches("b.zip!Application.csv", "Application.csv"));
        assert!(!path_matches("exports/XApplication.csv", "Application.csv"));
    }

    #[test]
    fn the_directory_gives_one_machine_one_name() {
        let d = Directory::of([
            "PC01",
            "pc01.corp.contoso.com",
            "PC01$",
            "ws01",
            "ws01.a.com",
            "ws01.b.com",
            "LONGMACHINENAME",
            "longmachinename01",
            "kms01",
        ]);
        assert_eq!(d.resolve("PC01"), "pc01.corp.contoso.com");
        assert_eq!(d.resolve("pc01$"), "pc01.corp.contoso.com");
        assert_eq!(d.resolve("pc01.corp.contoso.com"), "pc01.corp.contoso.com");
        assert_eq!(d.resolve("ws01"), "ws01", "ambiguous: left alone");
        assert_eq!(d.resolve("ws01.b.com"), "ws01.b.com");
        assert_eq!(d.resolve("LONGMACHINENAME"), "longmachinename01");
        assert_eq!(d.resolve("kms01"), "kms01");
        assert!(Directory::of(["a", "b"]).is_empty());
        let mut d = Directory::of(["old-name", "new-name", "OLD-NAME.corp"]);
        d.rename("old-name.corp", "new-name");
        assert_eq!(d.resolve("old-name"), "new-name");
        assert_eq!(d.resolve("OLD-NAME.corp"), "new-name");
        assert_eq!(d.resolve("old-name$"), "new-name");
        assert_eq!(d.resolve("other.corp.example"), "other.corp.example");
    }
}
