use serde_json::json;

use super::values::{classic_event, data_strings, event_id, time, xml_strings};
use super::*;
use crate::rules::Rules;

fn read(rules: &Rules, v: &Value) -> (Vec<RawEvent>, Vec<String>) {
    let mut w = Walker::new(rules.fields());
    let mut out = Vec::new();
    w.walk(v, &mut |e, _| out.push(e));
    let notes = w.tally.notes(rules.fields());
    (out, notes)
}

#[test]
fn qualifier_carrying_ids_keep_the_low_16_bits() {
    assert_eq!(event_id(&json!(1_073_742_727)), Some((903, Some(16384))));
    assert_eq!(event_id(&json!("1073754112")), Some((12288, Some(16384))));
    assert_eq!(event_id(&json!(12288)), Some((12288, None)));
    assert_eq!(event_id(&json!(-1)), None);
    assert_eq!(event_id(&json!("Application")), None);
    assert_eq!(event_id(&json!(5_000_000_000_u64)), None);
}

#[test]
fn positional_params_keep_their_gaps() {
    // winlogbeat drops empty values and keeps the numbering.
    let v = json!({"param1": "a", "param3": "c", "Binary": "00"});
    assert_eq!(data_strings(&v, 0).unwrap(), ["a", "", "c"]);
    let rules = Rules::embedded().unwrap();
    // The same, flattened into single keys (Graylog Sidecar).
    let doc = json!({"winlogbeat_winlog_event_id": "8198",
        "winlogbeat_winlog_provider_name": "Microsoft-Windows-Security-SPP",
        "winlogbeat_winlog_event_data_param2": "cmd", "timestamp": "2025-07-01T06:45:00.000Z"});
    let (events, _) = read(&rules, &doc);
    assert_eq!(events[0].data, ["", "cmd"]);
    // Lists of strings, of {"Value": v} and of {"": v} items.
    assert_eq!(
        data_strings(&json!(["a", null, 3]), 0).unwrap(),
        ["a", "", "3"]
    );
    assert_eq!(
        data_strings(&json!([{"Value": "a"}, {"": "b"}]), 0).unwrap(),
        ["a", "b"]
    );
    assert_eq!(
        data_strings(&json!({"Data": ["x", ""]}), 0).unwrap(),
        ["x", ""]
    );
    assert_eq!(data_strings(&json!(null), 0), None);
}

#[test]
fn xml_and_json_strings_give_their_data() {
    let sentinel = r#"<DataItem type="System.XmlData" time="t"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data>hr=0xC004F074</Data><Data/><Data>a &amp; b</Data></EventData></DataItem>"#;
    assert_eq!(
        xml_strings(sentinel).unwrap(),
        ["hr=0xC004F074", "", "a & b"]
    );
    assert_eq!(
        xml_strings("<Param>x</Param><Param>y</Param>").unwrap(),
        ["x", "y"]
    );
    // A dynamic column exported as a JSON string.
    assert_eq!(
        data_strings(&json!("{\"Data\":[\"p\",\"q\"]}"), 0).unwrap(),
        ["p", "q"]
    );
}

#[test]
fn times_in_every_shape() {
    let utc = |s: &str| time(&json!(s)).map(|(t, zoneless)| (t.to_rfc3339(), zoneless));
    let at = "2025-07-01T06:45:00+00:00".to_owned();
    assert_eq!(utc("2025-07-01T06:45:00Z"), Some((at.clone(), false)));
    assert_eq!(utc("2025-07-01T08:45:00+02:00"), Some((at.clone(), false)));
    assert_eq!(
        utc("2025-07-01T06:45:00.000+0000"),
        Some((at.clone(), false))
    );
    assert_eq!(utc("2025-07-01 06:45:00 +0000"), Some((at.clone(), false)));
    assert_eq!(utc("2025-07-01 06:45:00"), Some((at.clone(), true)));
    assert_eq!(utc("20250701084500.000000+120"), Some((at.clone(), false)));
    assert_eq!(utc("/Date(1751352300000)/"), Some((at.clone(), false)));
    assert_eq!(utc("07/01/2025 06:45:00 AM"), Some((at.clone(), true)));
    // Regression: Kibana's CSV report date (default `dateFormat`) was no time at all, so a
    // Kibana export's events had none and the host-log coverage findings were lost.
    assert_eq!(utc("Jul 1, 2025 @ 06:45:00.000"), Some((at.clone(), true)));
    assert_eq!(
        utc("Oct 15, 2026 @ 18:05:09.120").map(|(t, _)| t),
        Some("2026-10-15T18:05:09.120+00:00".to_owned())
    );
    assert_eq!(
        time(&json!(1_751_352_300.0)).map(|(t, _)| t.to_rfc3339()),
        Some(at.clone())
    );
    assert_eq!(
        time(&json!(1_751_352_300_000_u64)).map(|(t, _)| t.to_rfc3339()),
        Some(at)
    );
    assert_eq!(utc("yesterday"), None);
    assert_eq!(time(&json!(-5)), None);
}

#[test]
fn splunk_classic_event_text() {
    let raw = "07/01/2025 06:45:00 AM\nLogName=Application\nEventCode=16384\nSourceName=Microsoft-Windows-Security-SPP\nMessage=Successfully scheduled.\nSecond line";
    let m = classic_event(raw).unwrap();
    assert_eq!(m["EventCode"], "16384");
    assert_eq!(m["time"], "07/01/2025 06:45:00 AM");
    assert_eq!(m["Message"], "Successfully scheduled.\nSecond line");
    assert!(classic_event("no event here").is_none());
}

#[test]
fn records_are_found_anywhere_and_wrappers_are_not_records() {
    let rules = Rules::embedded().unwrap();
    let doc = json!({"took": 3, "hits": {"total": {"value": 2}, "hits": [
        {"_index": "i", "_id": "12288", "_source": {"data": {"win": {"system": {
            "eventID": "12288", "providerName": "Microsoft-Windows-Security-SPP",
            "computer": "pc01", "channel": "Application"}}}}},
        {"_index": "i", "_id": "2", "_source": {"note": "no event"}}
    ]}});
    let (events, notes) = read(&rules, &doc);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_id, 12288);
    assert_eq!(events[0].computer.as_deref(), Some("pc01"));
    assert!(notes[0].starts_with("read as Wazuh"), "{notes:?}");
    // An event id without a provider or a channel is no record; neither is a negative code.
    let (events, _) = read(&rules, &json!({"eventCode": -1, "eventId": "Application"}));
    assert!(events.is_empty());
    let (events, _) = read(&rules, &json!({"EventID": 12288}));
    assert!(events.is_empty());
}

#[test]
fn an_event_xml_string_is_the_record_and_the_aliases_fill_its_gaps() {
    let rules = Rules::embedded().unwrap();
    // Double-quoted attributes, as a JSON string decodes them.
    let xml = "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"Microsoft-Windows-Security-SPP\"/><EventID Qualifiers=\"49152\">8198</EventID><TimeCreated SystemTime=\"2025-07-01T06:45:01.000Z\"/><Channel>Application</Channel></System><EventData><Data>hr=0xC004F074</Data><Data>C:\\Windows\\System32\\slui.exe</Data></EventData></Event>";
    let doc = json!({"preview": false, "result": {"_raw": xml, "host": "PC01", "source": "XmlWinEventLog:Application"}});
    let (events, notes) = read(&rules, &doc);
    let e = &events[0];
    assert_eq!((e.event_id, e.qualifiers), (8198, Some(49152)));
    assert_eq!(e.data[1], "C:\\Windows\\System32\\slui.exe");
    assert_eq!(
        e.computer.as_deref(),
        Some("PC01"),
        "filled from `result.host`"
    );
    assert!(notes[0].contains("`result._raw` (Event XML"), "{notes:?}");
    assert!(notes[0].contains("machine from `result.host`"), "{notes:?}");
    // A channel from Splunk's `source` loses its prefix; a value without one is no channel.
    let doc =
        json!({"result": {"EventCode": "12288", "source": "WinEventLog:Key Management Service"}});
    let (events, _) = read(&rules, &doc);
    assert_eq!(events[0].channel.as_deref(), Some("Key Management Service"));
    let doc = json!({"result": {"EventCode": "12288", "SourceName": "S", "source": "/var/log/x"}});
    assert_eq!(read(&rules, &doc).0[0].channel, None);
}

#[test]
fn the_shape_whose_names_match_most_is_recognised() {
    let rules = Rules::embedded().unwrap();
    let nxlog = json!({"EventTime": "2025-07-01 06:45:00", "Hostname": "pc01", "EventID": 16384,
        "SourceName": "Microsoft-Windows-Security-SPP", "Channel": "Application", "RecordNumber": 7,
        "Message": "m"});
    let gelf = json!({"version": "1.1", "host": "pc01", "short_message": "m", "timestamp": 1_751_352_300,
        "_EventID": 16384, "_SourceName": "Microsoft-Windows-Security-SPP", "_Channel": "Application"});
    assert!(read(&rules, &nxlog).1[0].starts_with("read as NXLog"));
    assert!(read(&rules, &gelf).1[0].starts_with("read as Graylog GELF"));
    // The generic names only when nothing else matches.
    let generic = json!({"Event_ID": 1003, "Provider": {"Name": "Microsoft-Windows-Security-SPP"},
        "TimeCreated": {"SystemTime": "2025-07-01T06:45:00Z"}});
    let (events, notes) = read(&rules, &generic);
    assert_eq!(events[0].event_id, 1003);
    assert!(events[0].time_created.is_some());
    assert!(!notes[0].contains("JSON named after"), "{notes:?}");
}

#[test]
fn the_probe_finds_a_record_in_a_cut_off_head() {
    let rules = Rules::embedded().unwrap();
    let rec = r#"{"event id": 16384, "source name": "Microsoft-Windows-Security-SPP", "log name": "Application"}"#;
    let head = format!(r#"{{"a": {{"list": [{rec}, {rec}, {{"event id": 1"#);
    assert!(probe(&head, rules.fields()));
    assert!(!probe(
        r#"{"name": "x", "items": [{"id": 1}]}"#,
        rules.fields()
    ));
}

#[test]
fn csv_exports_are_read_row_by_row() {
    let rules = Rules::embedded().unwrap();
    let head = "\u{feff}_time,host,source,_raw\r\n";
    assert!(csv::probe(head, rules.fields()));
    assert!(csv::probe(
        "TimeGenerated [UTC],Computer,EventID,Source\n",
        rules.fields()
    ));
    assert!(!csv::probe("name,value\n", rules.fields()));
    assert!(!csv::probe("EventID\n", rules.fields()));
    let text = "EventID,Source,Computer,RenderedDescription\n16394,Microsoft-Windows-Security-SPP,pc01,\"Offline downlevel\nmigration succeeded.\"\n16384,,pc01,x\n1003,Microsoft-Windows-Security-SPP,pc02,y\n";
    let mut got = Vec::new();
    let read = csv::read_each(text, rules.fields(), &mut |e| got.push(e));
    assert_eq!(read.records, 2);
    assert_eq!(got[0].line, Some(2));
    assert_eq!(
        got[0].message.as_deref(),
        Some("Offline downlevel\nmigration succeeded.")
    );
    assert_eq!(got[1].line, Some(5));
    assert_eq!(read.damaged.len(), 1, "{:?}", read.damaged);
    assert!(read.damaged[0].starts_with("line 4:"), "{:?}", read.damaged);
}

#[test]
fn a_json_array_is_read_item_by_item_and_recovers_where_it_breaks() {
    let rules = Rules::embedded().unwrap();
    let item = |m: &str| {
        format!(r#"{{"EventID":16384,"Source":"Microsoft-Windows-Security-SPP","Computer":"{m}"}}"#)
    };
    let machines = |text: &str| {
        let (events, damaged) = crate::events::json::read(text, rules.fields());
        let m: Vec<String> = events
            .iter()
            .map(|e| e.computer.as_deref().unwrap_or("").to_owned())
            .collect();
        (m, damaged)
    };
    // Two arrays one after the other.
    let two = format!("[{},\n{}]\n[{}]\n", item("a"), item("b"), item("c"));
    assert_eq!(
        machines(&two),
        (vec!["a".into(), "b".into(), "c".into()], vec![])
    );
    // A pretty-printed array broken in its second item: the rest is read line by line.
    let broken = format!(
        "[\n {},\n {{\"EventID\":1,\n oops,\n {},\n {}",
        item("a"),
        item("c"),
        &item("d")[..20]
    );
    let (m, damaged) = machines(&broken);
    assert_eq!(m, ["a", "c"]);
    assert_eq!(damaged.len(), 2, "{damaged:?}");
    assert!(
        damaged[0].starts_with("line 4: the JSON array breaks off"),
        "{damaged:?}"
    );
}

#[test]
fn classic_splunk_events_are_split_at_their_time_lines() {
    let rules = Rules::embedded().unwrap();
    let text = "07/01/2025 06:45:01 AM\nLogName=Application\nEventCode=8198\nSourceName=Microsoft-Windows-Security-SPP\nComputerName=pc01\nRecordNumber=7\nMessage=License Activation (slui.exe) failed with the following error code:\nhr=0xC004F074\nCommand-line arguments:\nRuleId=x;Action=AutoActivate\n07/01/2025 06:45:02 AM\nLogName=Application\nEventCode=16394\nSourceName=Microsoft-Windows-Security-SPP\nMessage=Offline downlevel migration succeeded.\nLogName=System\nEventCode=7036\n";
    assert!(classic::looks_like(text));
    let mut got = Vec::new();
    let read = classic::read_each(text, rules.fields(), &mut |e| got.push(e));
    assert_eq!(read.records, 3);
    assert_eq!((got[0].event_id, got[0].line), (8198, Some(1)));
    assert!(
        got[0]
            .message
            .as_deref()
            .unwrap()
            .ends_with("RuleId=x;Action=AutoActivate")
    );
    assert_eq!((got[1].event_id, got[1].line), (16394, Some(11)));
    assert_eq!(
        got[1].message.as_deref(),
        Some("Offline downlevel migration succeeded.")
    );
    // An event without its time line starts at its `LogName=`.
    assert_eq!((got[2].event_id, got[2].line), (7036, Some(16)));
    assert!(read.damaged.is_empty(), "{:?}", read.damaged);
}

#[test]
fn wazuh_documents_are_read_from_their_message_not_the_joined_data() {
    // Regression (found by the SIEM parity test): Wazuh joins an event's unnamed <Data> values
    // with ", " into `data.win.eventdata.data` and keeps the message as its JSON text, quotes
    // included. The joined value was taken as one payload string (12293's domain was lost) and
    // the quoted message matched no template.
    let rules = Rules::embedded().unwrap();
    let doc = json!({"timestamp": "2026-10-05T00:03:00.000+0000", "agent": {"id": "001", "name": "kms01"},
        "decoder": {"name": "windows_eventchannel"}, "location": "EventChannel",
        "data": {"win": {"system": {"providerName": "Microsoft-Windows-Security-SPP",
            "eventID": "12293", "systemTime": "2026-10-05T00:03:00.0000000Z", "eventRecordID": "1",
            "channel": "Application", "computer": "kms01.contoso.com",
            "message": "\"Publishing the Key Management Service (KMS) to DNS in the 'contoso.com' domain failed.\r\nInfo:\r\n0x8007267C\""},
            "eventdata": {"data": "0x8007267C, contoso.com"}}}});
    let (events, _) = read(&rules, &doc);
    assert_eq!(events.len(), 1);
    assert!(events[0].data.is_empty(), "{:?}", events[0].data);
    let m = events[0].message.as_deref().unwrap();
    assert!(
        m.starts_with("Publishing") && m.ends_with("0x8007267C"),
        "{m}"
    );
    // Without a message, the joined value is still the payload.
    let mut bare = doc.clone();
    bare["data"]["win"]["system"]
        .as_object_mut()
        .unwrap()
        .remove("message");
    let (events, _) = read(&rules, &bare);
    assert_eq!(events[0].data, ["0x8007267C, contoso.com"]);
}
