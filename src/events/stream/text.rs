//! A large text export read from its file a block at a time and handed on as UTF-8: the encoding
//! is told from the first block (a BOM, UTF-16 without one, UTF-8, else the legacy code page that
//! reads the first block best) and every later block is decoded with it; NUL characters are
//! dropped as the whole-file decoder drops them. Lines come out one at a time, none longer than a
//! set limit: a longer line is passed over to its end and counted, never held.

use std::io::Read;

use encoding_rs::{Decoder, Encoding, UTF_16BE, UTF_16LE};

/// Bytes read from the file at a time.
const BLOCK: usize = 1 << 20;

/// How the file's bytes become UTF-8.
enum Decode {
    /// Already UTF-8: the bytes are used as read (invalid sequences are replaced where a line is
    /// read as text).
    Utf8,
    /// UTF-16 or a multi-byte legacy code page, by `encoding_rs`'s streaming decoder.
    Whatwg(Decoder),
    /// A single-byte OEM code page `encoding_rs` does not carry.
    Oem(&'static [char; 128]),
}

/// A file's text, decoded block by block.
pub(crate) struct Text<R> {
    src: R,
    decode: Decode,
    /// The encoding, as the whole-file decoder names it.
    pub(crate) encoding: &'static str,
    /// Raw bytes read, before decoding (for the decoders that are not UTF-8).
    raw: Vec<u8>,
    /// Decoded UTF-8 bytes; `pos..end` are not consumed yet.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Where the search for the end of the current line goes on from.
    scan: usize,
    eof: bool,
    /// The longest line handed out.
    limit: usize,
    /// The 1-based number of the next line.
    line: u64,
}

/// A line of the text: its number and where it lies in [`Text::bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// A whole line (without its `\n`).
    Text {
        number: u64,
        at: std::ops::Range<usize>,
    },
    /// A line longer than the limit, passed over: its number.
    TooLong { number: u64 },
}

impl<R: Read> Text<R> {
    /// Reads the first block and tells the encoding from it; `standard` is for formats whose
    /// standard fixes the encoding (JSON): a BOM or UTF-16, else UTF-8, never a legacy code
    /// page. `score` rates a candidate decoding of the first block as the whole-file decoder's.
    pub(crate) fn new(
        mut src: R,
        limit: usize,
        standard: bool,
        score: &dyn Fn(&str) -> usize,
    ) -> std::io::Result<Text<R>> {
        let mut first = Vec::with_capacity(BLOCK);
        (&mut src).take(BLOCK as u64).read_to_end(&mut first)?;
        // The block may end inside a character: the decoder is chosen on whole characters.
        let whole = match std::str::from_utf8(&first) {
            Err(e) if e.error_len().is_none() => first.get(..e.valid_up_to()).unwrap_or(&[]),
            _ => &first,
        };
        let encoding = crate::input::encoding::decode(whole, score).encoding;
        let (decode, skip) = match encoding {
            "UTF-8 (BOM)" => (Decode::Utf8, 3),
            "UTF-16LE (BOM)" => (whatwg(UTF_16LE), 2),
            "UTF-16BE (BOM)" => (whatwg(UTF_16BE), 2),
            "UTF-16LE" => (whatwg(UTF_16LE), 0),
            "UTF-16BE" => (whatwg(UTF_16BE), 0),
            "IBM850" if !standard => (Decode::Oem(&oem_cp::code_table::DECODING_TABLE_CP850), 0),
            "IBM437" if !standard => (Decode::Oem(&oem_cp::code_table::DECODING_TABLE_CP437), 0),
            other if !standard && other != "UTF-8" => (
                Encoding::for_label(other.as_bytes()).map_or(Decode::Utf8, whatwg),
                0,
            ),
            _ => (Decode::Utf8, 0),
        };
        let encoding = match (&decode, standard) {
            (Decode::Utf8, true) if !encoding.starts_with("UTF-") => "UTF-8",
            _ => encoding,
        };
        let mut text = Text {
            src,
            decode,
            encoding,
            raw: Vec::new(),
            buf: Vec::with_capacity(BLOCK * 2),
            pos: 0,
            end: 0,
            scan: 0,
            eof: false,
            limit: limit.max(1),
            line: 1,
        };
        text.push(first.get(skip..).unwrap_or(&[]), false);
        Ok(text)
    }

    /// The decoded bytes lines point into.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The next line, or `None` at the end of the text.
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut too_long = false;
        loop {
            let from = self.scan.max(self.pos);
            if let Some(i) = self
                .buf
                .get(from..self.end)
                .and_then(|b| memchr::memchr(b'\n', b))
            {
                let nl = from + i;
                too_long |= nl - self.pos > self.limit;
                let number = self.line;
                self.line += 1;
                let at = self.pos..nl;
                self.pos = nl + 1;
                self.scan = self.pos;
                return Ok(Some(if too_long {
                    Line::TooLong { number }
                } else {
                    Line::Text { number, at }
                }));
            }
            self.scan = self.end;
            if self.end - self.pos > self.limit {
                // Passed over to its end: what is held of it is let go.
                too_long = true;
                self.pos = self.end;
                self.scan = self.end;
            }
            if self.eof {
                too_long |= self.end - self.pos > self.limit;
                if self.pos >= self.end && !too_long {
                    return Ok(None);
                }
                let number = self.line;
                self.line += 1;
                let at = self.pos..self.end;
                self.pos = self.end;
                return Ok(Some(if too_long {
                    Line::TooLong { number }
                } else {
                    Line::Text { number, at }
                }));
            }
            self.fill()?;
        }
    }

    /// The decoded bytes not consumed yet, reading another block when none are left (empty at
    /// the end of the text).
    pub(crate) fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.end && !self.eof {
            self.fill()?;
        }
        Ok(self.buf.get(self.pos..self.end).unwrap_or(&[]))
    }

    /// `n` bytes of [`Text::fill_buf`] are used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
        self.scan = self.pos;
    }

    /// Reads and decodes another block after what is not consumed yet.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.scan -= self.pos.min(self.scan);
            self.end -= self.pos;
            self.pos = 0;
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let n = (&mut self.src).take(BLOCK as u64).read_to_end(&mut raw)?;
        self.eof = n == 0;
        self.push(&raw, self.eof);
        self.raw = raw;
        Ok(())
    }

    /// Appends the decoded text of raw bytes (`last`: the end of the file).
    fn push(&mut self, raw: &[u8], last: bool) {
        self.buf.truncate(self.end);
        let start = self.end;
        match &mut self.decode {
            Decode::Utf8 => self.buf.extend_from_slice(raw),
            Decode::Whatwg(d) => {
                let room = d.max_utf8_buffer_length(raw.len()).unwrap_or(raw.len() * 3);
                self.buf.resize(start + room, 0);
                let (_, _, written, _) =
                    d.decode_to_utf8(raw, self.buf.get_mut(start..).unwrap_or(&mut []), last);
                self.buf.truncate(start + written);
            }
            Decode::Oem(table) => {
                let mut s = String::with_capacity(raw.len());
                for &b in raw {
                    s.push(if b < 0x80 {
                        char::from(b)
                    } else {
                        table
                            .get(usize::from(b - 0x80))
                            .copied()
                            .unwrap_or('\u{FFFD}')
                    });
                }
                self.buf.extend_from_slice(s.as_bytes());
            }
        }
        // NUL characters never belong in the text (the whole-file decoder drops them too).
        if memchr::memchr(0, self.buf.get(start..).unwrap_or(&[])).is_some() {
            let mut kept = start;
            for i in start..self.buf.len() {
                let b = self.buf.get(i).copied().unwrap_or(0);
                if b != 0 {
                    if let Some(slot) = self.buf.get_mut(kept) {
                        *slot = b;
                    }
                    kept += 1;
                }
            }
            self.buf.truncate(kept);
        }
        self.end = self.buf.len();
    }
}

fn whatwg(enc: &'static Encoding) -> Decode {
    Decode::Whatwg(enc.new_decoder_without_bom_handling())
}
