//! The payload store's tests: slots, slabs, field reads and their JSON forms.

use super::*;

/// A payload in a buffer of its own.
fn own<'a, S: AsRef<str>>(
    shape: Option<Arc<Shape>>,
    raw: &[S],
    fields: impl IntoIterator<Item = (usize, Draft<'a>)>,
) -> Payload {
    let mut slab = Slab::default();
    let mut p = slab.build(shape, raw, fields);
    slab.seal([&mut p]);
    p
}

/// The bytes of slots and of text in a payload's buffers (all its own, when sealed alone).
fn sizes(p: &Payload) -> (usize, usize) {
    p.slab
        .as_deref()
        .map_or((0, 0), |s| (s.slots.len(), s.text.len()))
}

fn names(n: &[&str]) -> Arc<Shape> {
    Arc::new(Shape {
        name: Arc::from("test"),
        names: n.iter().map(|s| Arc::from(*s)).collect(),
    })
}

#[test]
fn fields_are_found_by_name_and_raw_strings_kept_in_order() {
    let raw = ["0x0,pc01".to_owned(), String::new(), "x".to_owned()];
    let piece = raw.first().and_then(|r| r.get(4..)).unwrap_or("");
    let p = own(
        Some(names(&["code", "host", "id", "note"])),
        &raw,
        vec![
            (0, Draft::Code(Hresult(0))),
            (1, Draft::Text(Cow::Borrowed(piece))),
            (
                2,
                Draft::Guid(Cow::Owned("7f3e1a55-27f8-4950-8877-7a03be5fb181".into())),
            ),
            (9, Draft::Int(1)),
        ],
    );
    assert_eq!(p.get("code"), Some(FieldValue::Code(Hresult(0))));
    assert_eq!(p.get("host"), Some(FieldValue::Text("pc01")));
    assert_eq!(
        p.get("id"),
        Some(FieldValue::Guid("7f3e1a55-27f8-4950-8877-7a03be5fb181"))
    );
    assert_eq!(p.get("note"), None);
    assert_eq!(p.get("hos"), None);
    assert_eq!(p.raw().collect::<Vec<_>>(), ["0x0,pc01", "", "x"]);
    // The borrowed piece was not copied: only the owned GUID was added to the buffer.
    assert_eq!(sizes(&p), (7 * SLOT, 9 + 36));
    assert_eq!(
        serde_json::to_string(&FieldsJson(&p)).unwrap(),
        r#"{"code":"0x00000000","host":"pc01","id":"7f3e1a55-27f8-4950-8877-7a03be5fb181"}"#
    );
    assert_eq!(
        serde_json::to_string(&RawJson(&p)).unwrap(),
        r#"["0x0,pc01","","x"]"#
    );
}

#[test]
fn fields_looked_up_once_per_layout_read_each_payloads_own_values() {
    let a = names(&["cmid", "name", "n"]);
    let b = names(&["n", "cmid"]);
    let mut f = Fields::new(["n", "cmid", "missing"]);
    let p1 = own(
        Some(a.clone()),
        &["x"],
        [(2, Draft::Int(25)), (0, Draft::Text("c1".into()))],
    );
    let p2 = own(Some(a), &["y"], [(2, Draft::Int(5))]);
    let p3 = own(
        Some(b),
        &["z"],
        [(0, Draft::Int(1)), (1, Draft::Guid("c3".into()))],
    );
    let p4 = own(None, &["w"], []);
    assert_eq!(
        f.get(&p1),
        [Some(Value::Int(25)), Some(Value::Text("c1")), None]
    );
    assert_eq!(f.get(&p2), [Some(Value::Int(5)), None, None]);
    // Another layout: the names are found again, at their new places.
    assert_eq!(
        f.get(&p3),
        [Some(Value::Int(1)), Some(Value::Guid("c3")), None]
    );
    assert_eq!(
        f.get(&p1),
        [Some(Value::Int(25)), Some(Value::Text("c1")), None]
    );
    assert_eq!(f.get(&p4), [None, None, None]);
    for p in [&p1, &p2, &p3] {
        assert_eq!(f.get(p)[0], p.get("n"));
        assert_eq!(f.get(p)[1], p.get("cmid"));
    }
}

#[test]
fn slots_keep_every_value() {
    for i in [0, 1, -1, i64::MIN, i64::MAX, 43_200] {
        assert_eq!(whole(halves(i)), i);
        assert_eq!(Slot::decode(&Slot::Int(i).encode()), Slot::Int(i));
    }
    for slot in [
        Slot::Absent,
        Slot::Code(Hresult(0xC004_F074)),
        Slot::Flags(u32::MAX),
        Slot::Bool(true),
        Slot::Bool(false),
        Slot::Time(Moment {
            days: -5,
            secs: 86_399,
        }),
        Slot::Guid(Span { start: 7, len: 36 }),
        Slot::Text(Span {
            start: u32::MAX,
            len: 0,
        }),
    ] {
        assert_eq!(Slot::decode(&slot.encode()), slot);
    }
    let t = chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .unwrap();
    let raw: [&str; 0] = [];
    let p = own(
        Some(names(&["t", "n"])),
        &raw,
        vec![(0, Draft::Time(t)), (1, Draft::Int(i64::MIN))],
    );
    assert_eq!(p.get("t"), Some(FieldValue::Time(t)));
    assert_eq!(p.get("n"), Some(FieldValue::Int(i64::MIN)));
}

#[test]
fn payloads_of_one_batch_share_one_buffer_and_each_reads_its_own() {
    let mut slab = Slab::default();
    let shape = names(&["n", "t"]);
    let mut batch: Vec<Payload> = (0..50)
        .map(|i| {
            let raw = [format!("{i},x{i}"), String::new()];
            let piece = raw[0].split_once(',').map_or("", |(_, t)| t);
            slab.build(
                Some(shape.clone()),
                &raw,
                vec![(0, Draft::Int(i)), (1, Draft::Text(Cow::Borrowed(piece)))],
            )
        })
        .collect();
    slab.seal(batch.iter_mut());
    let first = batch[0].slab.clone().unwrap();
    for (i, p) in (0i64..).zip(&batch) {
        assert!(Arc::ptr_eq(p.slab.as_ref().unwrap(), &first));
        assert_eq!(p.get("n"), Some(FieldValue::Int(i)));
        assert_eq!(p.get("t"), Some(FieldValue::Text(&format!("x{i}"))));
        assert_eq!(
            p.raw().collect::<Vec<_>>(),
            [format!("{i},x{i}").as_str(), ""]
        );
    }
    // The next batch gets a buffer of its own.
    let mut next = slab.build(Some(shape), &["7,y"], vec![(0, Draft::Int(7))]);
    slab.seal([&mut next]);
    assert!(!Arc::ptr_eq(next.slab.as_ref().unwrap(), &first));
    assert_eq!(next.get("n"), Some(FieldValue::Int(7)));
}

#[test]
fn a_field_given_twice_keeps_the_later_value_and_equality_ignores_layout() {
    let raw = ["a".to_owned()];
    let first = own(
        Some(names(&["k"])),
        &raw,
        vec![(0, Draft::Int(1)), (0, Draft::Text(Cow::Owned("a".into())))],
    );
    assert_eq!(first.get("k"), Some(FieldValue::Text("a")));
    let borrowed = own(
        Some(names(&["k"])),
        &raw,
        vec![(0, Draft::Text(Cow::Borrowed(raw[0].as_str())))],
    );
    assert_ne!(sizes(&first), sizes(&borrowed));
    assert_eq!(first, borrowed);
    let none = own(None, &raw, Vec::new());
    assert!(none.fields().next().is_none());
    assert_ne!(first, none);
}
