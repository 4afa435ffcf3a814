//! Decoding a chunked response body (RFC 9112, section 7.1) as bytes
//! arrive: sizes, data, the CRLF after each chunk, the last chunk and the
//! trailer. Only counted, never kept (but a bounded prefix, when a
//! check of the body's text asks for it). Every line it waits for is bounded,
//! so a server that never ends one cannot make the client buffer without
//! end.

/// The longest chunk-size or trailer line accepted, CRLF included.
pub(super) const MAX_LINE: usize = 4096;

/// Where the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a size line.
    Size,
    /// Inside a chunk's data, with this much left.
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    /// Trailer lines after the last chunk.
    Trailers,
    /// The body is complete.
    Done,
}

/// The body's framing is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invalid(pub String);

/// What one call to [`Decoder::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fed {
    /// Bytes of the input used; the rest (after the body's end) belongs
    /// to the next response.
    pub consumed: usize,
    /// Body bytes among them.
    pub body: u64,
}

/// A chunked body's decoder.
#[derive(Debug, Clone)]
pub(super) struct Decoder {
    state: State,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder { state: State::Size }
    }
}

impl Decoder {
    /// Whether the whole body (last chunk and trailer) has been read.
    pub(super) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decode what `input` holds. A line that has not ended yet is left
    /// unconsumed: feed it again with more bytes after it. A line longer
    /// than [`MAX_LINE`] is invalid.
    #[cfg(test)]
    pub(super) fn feed(&mut self, input: &[u8]) -> Result<Fed, Invalid> {
        self.feed_into(input, None)
    }

    /// [`Decoder::feed`], appending the body's bytes to `keep` (while it
    /// holds fewer than `limit`) when given.
    pub(super) fn feed_into(
        &mut self,
        input: &[u8],
        mut keep: Option<(&mut Vec<u8>, usize)>,
    ) -> Result<Fed, Invalid> {
        let mut at = 0;
        let mut body = 0;
        loop {
            let rest = &input[at..];
            match self.state {
                State::Done => break,
                State::Data(left) => {
                    let take = left.min(rest.len() as u64);
                    if take == 0 {
                        break;
                    }
                    if let Some((kept, limit)) = &mut keep {
                        let room = limit.saturating_sub(kept.len()).min(take as usize);
                        kept.extend_from_slice(&rest[..room]);
                    }
                    body += take;
                    at += take as usize;
                    self.state = if take == left {
                        State::DataEnd
                    } else {
                        State::Data(left - take)
                    };
                }
                State::Size | State::DataEnd | State::Trailers => {
                    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                        if rest.len() >= MAX_LINE {
                            return Err(Invalid(format!(
                                "a chunk line longer than {MAX_LINE} bytes"
                            )));
                        }
                        break;
                    };
                    if end + 2 > MAX_LINE {
                        return Err(Invalid(format!(
                            "a chunk line longer than {MAX_LINE} bytes"
                        )));
                    }
                    let line = &rest[..end];
                    at += end + 2;
                    self.state = match self.state {
                        State::DataEnd if line.is_empty() => State::Size,
                        State::DataEnd => return Err(Invalid("no CRLF after a chunk".into())),
                        State::Trailers if line.is_empty() => State::Done,
                        State::Trailers => State::Trailers,
                        _ => match size(line)? {
                            0 => State::Trailers,
                            size => State::Data(size),
                        },
                    };
                }
            }
        }
        Ok(Fed { consumed: at, body })
    }
}

/// The size a chunk-size line gives (hex digits, then extensions).
fn size(line: &[u8]) -> Result<u64, Invalid> {
    let text = std::str::from_utf8(line).unwrap_or("");
    let digits = text.split(';').next().unwrap_or("").trim();
    if digits.is_empty() || digits.len() > 15 {
        return Err(Invalid(format!("invalid chunk size {text:?}")));
    }
    u64::from_str_radix(digits, 16).map_err(|_| Invalid(format!("invalid chunk size {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\nNEXT";

    /// Feed `input` split at `cut`, as two reads would bring it.
    fn decode_split(input: &[u8], cut: usize) -> Result<(u64, usize), Invalid> {
        let mut decoder = Decoder::default();
        let mut buffer = input[..cut].to_vec();
        let first = decoder.feed(&buffer)?;
        buffer.drain(..first.consumed);
        let used_before = first.consumed;
        buffer.extend_from_slice(&input[cut..]);
        let second = decoder.feed(&buffer)?;
        assert!(decoder.is_done(), "cut at {cut}");
        Ok((first.body + second.body, used_before + second.consumed))
    }

    #[test]
    fn a_body_decodes_whatever_the_reads_split_it() {
        for cut in 0..=BODY.len() {
            let (body, consumed) = decode_split(BODY, cut).unwrap();
            assert_eq!(body, 12, "cut at {cut}");
            assert_eq!(&BODY[consumed..], b"NEXT", "cut at {cut}");
        }
    }

    #[test]
    fn bad_sizes_and_missing_crlf_are_invalid() {
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"-1\r\n",
            b"ffffffffffffffffff\r\n",
            b"3\r\nabcX\r\n",
        ] {
            assert!(Decoder::default().feed(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_line_that_never_ends_is_refused_not_buffered() {
        let endless = vec![b'1'; MAX_LINE];
        let error = Decoder::default().feed(&endless).unwrap_err();
        assert!(error.0.contains("longer than"), "{error:?}");
        let mut trailer = b"0\r\n".to_vec();
        trailer.extend(vec![b'x'; MAX_LINE + 10]);
        assert!(Decoder::default().feed(&trailer).is_err());
        // A line just short of the bound waits for more.
        let short = vec![b'1'; MAX_LINE - 1];
        let fed = Decoder::default().feed(&short).unwrap();
        assert_eq!(fed.consumed, 0);
    }

    #[test]
    fn trailers_are_read_and_skipped() {
        let mut decoder = Decoder::default();
        let fed = decoder.feed(b"0\r\nA: 1\r\nB: 2\r\n\r\n").unwrap();
        assert!(decoder.is_done());
        assert_eq!(fed.body, 0);
    }
}
