//! Machine names as inputs give them: the name a file's path suggests, and the two ways names are
//! compared (the loose [`same_machine`], where `ws01` is `ws01.contoso.com`, and the exact
//! [`same_machine_name`] for events that name their machine), and the one order names are shown in
//! ([`natural_cmp`]: `br2` before `br10`). Plain functions of strings: every stage that meets a
//! machine name asks here.

use std::cmp::Ordering;
use std::sync::Arc;

/// The machine name a path suggests: the file name without extension, or the folder's name when
/// the file is only named after the command (`PC042/dlv.txt` → `PC042`).
pub(crate) fn machine_from_path(full: &str) -> String {
    // Inside a zip (`bundle.zip!PC042/dlv.txt`) the inner path names the machine; an entry at the
    // archive's top level is named after the archive.
    let (archive, path) = match full.rsplit_once('!') {
        Some((outer, inner)) => (Some(outer), inner),
        None => (None, full),
    };
    let p = std::path::Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("stdin");
    let generic = {
        let s = stem.to_ascii_lowercase();
        let s = s
            .trim_start_matches("slmgr")
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let s = s
            .trim_start_matches("vbs")
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        s.is_empty()
            || [
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
            ]
            .contains(&s)
    };
    if generic
        && let Some(dir) = p
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
        && !dir.is_empty()
    {
        return dir.to_owned();
    }
    if generic && let Some(outer) = archive {
        return machine_from_path(outer);
    }
    stem.to_owned()
}

/// A machine name for comparing: case ignored; `ws01` and `ws01.contoso.com` are the same
/// machine.
pub(crate) fn same_machine(a: &str, b: &str) -> bool {
    fn first(s: &str) -> &str {
        s.split('.').next().unwrap_or("")
    }
    let (a, b) = (a.trim(), b.trim());
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    (!a.contains('.') || !b.contains('.'))
        && !a.is_empty()
        && first(a).eq_ignore_ascii_case(first(b))
}

/// Whether two events' machine names are one name (case ignored). The events of one input share
/// one `Arc` per name, so the pointer answers first.
pub(crate) fn same_machine_name(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a.eq_ignore_ascii_case(b)
}

/// Compares two names as ASCII-case-insensitive, without allocating.
pub(crate) fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
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
    fn exact_names_ignore_case_only() {
        let (a, b): (Arc<str>, Arc<str>) = ("WS01".into(), "ws01".into());
        assert!(same_machine_name(&a, &b));
        assert!(same_machine_name(&a, &a.clone()));
        assert!(!same_machine_name(&a, &"ws01.contoso.com".into()));
        assert_eq!(cmp_ignore_case("PC-A", "pc-b"), Ordering::Less);
        assert_eq!(cmp_ignore_case("pc-a", "PC-A"), Ordering::Equal);
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
    fn machine_names_compare_loosely() {
        assert!(same_machine("WS01", "ws01.contoso.com"));
        assert!(same_machine("ws01.contoso.com", "WS01.CONTOSO.COM"));
        assert!(!same_machine("ws01.a.com", "ws01.b.com"));
        assert!(!same_machine("ws01", "ws02"));
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
}
