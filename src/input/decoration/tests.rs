use super::*;

fn clean(text: &str) -> (String, Vec<Decoration>) {
    let u = undecorate(text).expect("decorated");
    (u.text, u.removed)
}

#[test]
fn plain_text_has_nothing_to_remove() {
    assert_eq!(
        undecorate("Name: Windows(R), Professional edition\nLicense Status: Licensed\n"),
        None
    );
}

#[test]
fn quote_marks_nested_and_with_markdown_breaks() {
    let (t, r) = clean("> Log Name: Application  \n>> Event ID: 8198\\\n> \n");
    assert_eq!(t, "Log Name: Application\nEvent ID: 8198\n\n");
    assert_eq!(r, vec![Decoration::QuoteMarks, Decoration::HardBreaks]);
}

#[test]
fn fences_emphasis_code_spans_bullets_and_indentation() {
    let text = "```text\n  **License Status:** Licensed\n- `Error: 0xC004F074`\n```\n";
    let (t, r) = clean(text);
    assert_eq!(t, "\nLicense Status: Licensed\nError: 0xC004F074\n\n");
    assert_eq!(
        r,
        vec![
            Decoration::CodeFences,
            Decoration::CodeSpans,
            Decoration::Emphasis,
            Decoration::Bullets,
            Decoration::Indentation,
        ]
    );
}

#[test]
fn lines_keep_their_numbers() {
    let text = "> a\n\n> b\n```\nc\n```\n";
    let u = undecorate(text).unwrap();
    assert_eq!(u.text.lines().count(), text.lines().count());
}

#[test]
fn a_time_stamp_and_a_shared_tag_on_every_line_are_a_prefix() {
    let text = "2024/05/19 07:20:28 Setup: Product activated successfully.\n\
                2024/05/19 07:20:29 Setup: Key Management Service machine name set to kms.example.com successfully.\n\
                2024/05/19 07:20:30 Setup: Activation successful.\n";
    let (t, r) = clean(text);
    assert_eq!(
        t,
        "Product activated successfully.\nKey Management Service machine name set to kms.example.com successfully.\nActivation successful.\n"
    );
    assert_eq!(r, vec![Decoration::LinePrefix]);
}

#[test]
fn iso_and_bracketed_stamps_without_a_tag() {
    let (t, _) = clean("2024-05-19T07:20:28.123Z Error: 0xC004F074\n2024-05-19T07:20:29Z done\n");
    assert_eq!(t, "Error: 0xC004F074\ndone\n");
    let (t, _) = clean("[07:20:28] Name: Windows\n[07:20:29] License Status: Licensed\n");
    assert_eq!(t, "Name: Windows\nLicense Status: Licensed\n");
}

#[test]
fn a_date_in_one_line_is_not_a_prefix() {
    // slmgr prints dates in values; one line starting with a date is not a logging prefix.
    let text = "Name: Windows\n2024/05/19 12:00 was the last renewal\nLicense Status: Licensed\n";
    assert_eq!(undecorate(text), None);
}

#[test]
fn dashes_and_signs_are_not_bullets() {
    assert_eq!(strip_bullet("--- Processing ---"), None);
    assert_eq!(strip_bullet("-5 days"), None);
    assert_eq!(strip_bullet("**bold**"), None);
    assert_eq!(
        strip_bullet("• Error: 0xC004F074"),
        Some("Error: 0xC004F074")
    );
}

#[test]
fn a_lone_double_underscore_is_not_emphasis() {
    assert_eq!(strip_inline("Office16__x").0, "Office16__x");
}

#[test]
fn html_text_markup_of_a_copied_page_goes_and_data_tags_stay() {
    // slmgr /dli as a blog's HTML (public post on a Server 2003 KMS host, see
    // testdata/pastes-outside/kms-host-dli-count-0.html.txt).
    let (t, removed) = clean(
        "<p>Name: Windows(TM) Server 2003 KMS, KmsW2k3Prs edition<br />\nLicense Status: Licensed</p>\n<p style=\"margin-left: 36pt;\">Current count: 0<br />\nDNS&nbsp;publishing enabled\n",
    );
    assert_eq!(
        t,
        "Name: Windows(TM) Server 2003 KMS, KmsW2k3Prs edition\nLicense Status: Licensed\nCurrent count: 0\nDNS publishing enabled\n"
    );
    assert_eq!(removed, vec![Decoration::HtmlMarkup]);
    // Elements that carry data, and a `<` that opens no element, are not markup.
    assert_eq!(strip_html("<Data>0xC004F074</Data>"), None);
    assert_eq!(strip_html("count < 25 and <KMS host>"), None);
    assert_eq!(strip_html("<pre>x</pre>").as_deref(), Some("x"));
}
