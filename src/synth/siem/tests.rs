//! Unit tests of the export writers' shared parts: the record selection, the rendered message,
//! the shape names and CSV quoting.

use super::*;

fn record(id: u16, channel: &str, data: &[&str]) -> Record {
    Record {
        provider: SPP.to_owned(),
        event_id: id,
        channel: channel.to_owned(),
        computer: "ws01.contoso.com".to_owned(),
        data: data.iter().map(|d| (*d).to_owned()).collect(),
        ..Record::default()
    }
}

#[test]
fn the_export_keeps_what_the_collect_queries_select() {
    assert!(exported(&record(12288, "Application", &[])));
    assert!(exported(&record(12290, KMS_LOG, &[])));
    // Security-SPP's service events say nothing about activation: no query asks for them.
    assert!(!exported(&record(903, "Application", &[])));
    let mut other = record(1000, "Application", &[]);
    other.provider = "Application Error".to_owned();
    assert!(!exported(&other));
}

#[test]
fn messages_are_rendered_from_the_message_table() {
    let rules = Rules::embedded().unwrap();
    let m = render(
        &rules,
        &record(8198, "Application", &["hr=0xC004F074", "RuleId=x"]),
    );
    assert_eq!(
        m,
        "License Activation (slui.exe) failed with the following error code:\r\nhr=0xC004F074\r\nCommand-line arguments:\r\nRuleId=x"
    );
    let m = render(
        &rules,
        &record(12293, "Application", &["0x8007267C", "contoso.com"]),
    );
    assert!(
        m.contains("in the 'contoso.com' domain failed.\r\nInfo:\r\n0x8007267C"),
        "{m}"
    );
}

#[test]
fn shape_names_round_trip() {
    for s in Shape::ALL {
        assert_eq!(Shape::parse(&s.id().to_ascii_uppercase()), Some(s));
    }
    assert_eq!(Shape::parse("nope"), None);
    let set = Shapes::default().with(Shape::Gelf).with(Shape::Ecs);
    assert_eq!(set.iter().collect::<Vec<_>>(), [Shape::Ecs, Shape::Gelf]);
}

#[test]
fn csv_cells_are_quoted_where_needed() {
    let mut out = Vec::new();
    csv_row(&mut out, &["a", "b,c", "say \"hi\"", "x\r\ny"]).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a,\"b,c\",\"say \"\"hi\"\"\",\"x\r\ny\"\r\n"
    );
}
