//! `kmsdiag collect`: the export query for one place a fleet keeps activation evidence, filled
//! with the event ids `analyze` keeps and the activation providers of the event catalogue, so the
//! query and the reader never disagree on what matters; without `--from`, the list of places.

use std::io::{self, Write};

use super::error;
use crate::cli::{CollectArgs, ExitStatus};
use crate::model::ids::event::CORRELATED;
use crate::report::{self, Style};
use crate::rules::Rules;
use crate::rules::collect::{Fill, render};

/// `kmsdiag collect`.
pub(crate) fn run(
    args: &CollectArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let sources = rules.collect_sources();
    let Some(from) = args.from.as_deref() else {
        report::collect::write_list(out, style, sources)?;
        return Ok(ExitStatus::Ok);
    };
    let Some(source) = sources
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(from.trim()))
    else {
        let ids: Vec<&str> = sources.iter().map(|s| s.id.as_str()).collect();
        return Ok(error(&format!(
            "no export query for `{from}`; kmsdiag has one for: {}",
            ids.join(", ")
        )));
    };
    let catalogue = rules.events();
    let providers: Vec<&str> = catalogue.provider_names().map(|(n, _)| n).collect();
    let names_and_aliases: Vec<&str> = catalogue
        .provider_names()
        .flat_map(|(n, aliases)| std::iter::once(n).chain(aliases.iter().map(String::as_str)))
        .collect();
    let fill = Fill {
        ids: CORRELATED,
        providers: &providers,
        names_and_aliases: &names_and_aliases,
        days: args.days,
    };
    let query = render(&source.template, &fill);
    report::collect::write_query(out, &mut io::stderr().lock(), source, &query, args.days)?;
    Ok(ExitStatus::Ok)
}
