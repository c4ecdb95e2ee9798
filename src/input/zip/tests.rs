use super::*;

#[test]
fn a_run_budget_starts_full_and_each_tree_gets_its_own() {
    let mut b = Budget::new();
    b.entries = 0;
    b.held = 5;
    b.tree(0);
    assert_eq!((b.entries, b.bytes, b.packed), (MAX_ENTRIES, MAX_TOTAL, 1));
    assert_eq!(
        b.held, 5,
        "nested archives held are the run's, not the tree's"
    );
}

#[test]
fn an_archive_on_disk_is_read_at_positions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("x.bin");
    std::fs::write(&path, b"0123456789").unwrap_or_else(|e| panic!("{e}"));
    let file = Arc::new(std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}")));
    let mut a = Source::File {
        file,
        pos: 0,
        len: 10,
    };
    let mut b = a.clone();
    let mut buf = [0u8; 3];
    a.seek(SeekFrom::End(-3)).unwrap_or_else(|e| panic!("{e}"));
    a.read_exact(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&buf, b"789");
    b.read_exact(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(&buf, b"012", "each clone has its own position");
    assert!(a.seek(SeekFrom::Current(-20)).is_err());
}
