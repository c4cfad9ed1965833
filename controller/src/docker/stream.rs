//! Streamed bodies: multiplexed log/exec frames, pull progress and events.
//!
//! Everything here works on any `Read`, so it is tested without a daemon;
//! the client wraps the readers with the ship's error context.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Which stream a chunk of container output belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdin,
    Stdout,
    Stderr,
}

/// One chunk of container output. TTY (raw) output is all `Stdout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub stream: StreamKind,
    pub data: Vec<u8>,
}

/// Largest frame accepted; dockerd's frames are a few KB to 32 KB, so a
/// bigger length means the stream is not what we think it is.
pub const MAX_FRAME: usize = 16 << 20;
/// Size of the chunks a raw (TTY) stream is cut into.
const RAW_CHUNK: usize = 32 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The 8-byte header framing (`application/vnd.docker.multiplexed-stream`).
    Multiplexed,
    /// Raw bytes: TTY containers.
    Raw,
    /// Not known: decided from the first 8 bytes.
    Detect,
}

/// Iterator of frames read from a log or exec body.
pub struct Frames<R> {
    reader: R,
    framing: Framing,
    /// Bytes read while detecting the framing, emitted first in raw mode.
    pending: Vec<u8>,
    done: bool,
}

impl<R: Read> Frames<R> {
    pub fn new(reader: R, framing: Framing) -> Self {
        Frames {
            reader,
            framing,
            pending: Vec::new(),
            done: false,
        }
    }

    /// The framing in use (after detection, once the first frame was read).
    pub fn framing(&self) -> Framing {
        self.framing
    }

    fn detect(&mut self) -> io::Result<()> {
        let mut head = [0u8; 8];
        let n = read_full(&mut self.reader, &mut head)?;
        self.pending = head[..n].to_vec();
        self.framing = if n == 8 && looks_multiplexed(&head) {
            Framing::Multiplexed
        } else {
            Framing::Raw
        };
        Ok(())
    }

    fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.framing == Framing::Detect {
            self.detect()?;
        }
        match self.framing {
            Framing::Raw => {
                if !self.pending.is_empty() {
                    return Ok(Some(Frame {
                        stream: StreamKind::Stdout,
                        data: std::mem::take(&mut self.pending),
                    }));
                }
                let mut buf = vec![0u8; RAW_CHUNK];
                let n = loop {
                    match self.reader.read(&mut buf) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                Ok(Some(Frame {
                    stream: StreamKind::Stdout,
                    data: buf,
                }))
            }
            _ => {
                let mut head = [0u8; 8];
                let n = if self.pending.len() == 8 {
                    head.copy_from_slice(&self.pending);
                    self.pending.clear();
                    8
                } else {
                    read_full(&mut self.reader, &mut head)?
                };
                if n == 0 {
                    return Ok(None);
                }
                if n < 8 {
                    return Err(truncated("frame header"));
                }
                let stream = match head[0] {
                    0 => StreamKind::Stdin,
                    1 => StreamKind::Stdout,
                    2 => StreamKind::Stderr,
                    other => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("bad stream frame: unknown stream type {other}"),
                        ));
                    }
                };
                let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
                if len > MAX_FRAME {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("bad stream frame: {len} bytes announced"),
                    ));
                }
                let mut data = vec![0u8; len];
                if read_full(&mut self.reader, &mut data)? < len {
                    return Err(truncated("frame"));
                }
                Ok(Some(Frame { stream, data }))
            }
        }
    }
}

impl<R: Read> Iterator for Frames<R> {
    type Item = io::Result<Frame>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_frame() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// A multiplexed stream starts with a stream type 0-2 and three zero bytes;
/// text from a TTY practically never does.
fn looks_multiplexed(head: &[u8; 8]) -> bool {
    head[0] <= 2 && head[1] == 0 && head[2] == 0 && head[3] == 0
}

fn truncated(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("stream ended inside a {what}"),
    )
}

/// Reads until `buf` is full or EOF; returns how much was read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Largest single message of a JSON stream. dockerd's progress messages
/// and events are a few hundred bytes; a message that does not end (a
/// broken or hostile daemon) must not grow in memory without bound.
pub const MAX_JSON_MESSAGE: u64 = 1 << 20;

/// Read-ahead of a JSON stream; limits are counted on what was read, so
/// they may cut this much early.
const STREAM_BUFFER: usize = 8 << 10;

/// Concatenated JSON values (progress, events), parsed as they arrive,
/// without relying on newlines. One value may not exceed its limit
/// ([`MAX_JSON_MESSAGE`] by default) and the whole stream may be capped
/// too; past a limit the stream ends with an `InvalidData` I/O error that
/// says which limit was hit.
pub struct JsonStream<R: Read, T> {
    inner: serde_json::StreamDeserializer<
        'static,
        serde_json::de::IoRead<io::BufReader<Metered<R>>>,
        T,
    >,
    meter: Arc<Meter>,
    done: bool,
}

/// What a [`Metered`] reader may still read, shared with its stream.
#[derive(Debug)]
struct Meter {
    read: AtomicU64,
    /// Where the reader stops: the current message's limit or the total.
    until: AtomicU64,
    max_message: u64,
    total: u64,
}

/// A reader that refuses to read past its meter's limit.
struct Metered<R> {
    inner: R,
    meter: Arc<Meter>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let m = &self.meter;
        let read = m.read.load(Ordering::Relaxed);
        let until = m.until.load(Ordering::Relaxed);
        if read >= until {
            let detail = if until >= m.total {
                format!("the stream went past its limit of {} bytes", m.total)
            } else {
                format!("one message is larger than {} bytes", m.max_message)
            };
            return Err(io::Error::new(io::ErrorKind::InvalidData, detail));
        }
        let room = usize::try_from(until - read).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let n = self.inner.read(&mut buf[..take])?;
        m.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Read, T: DeserializeOwned> JsonStream<R, T> {
    /// One message at most [`MAX_JSON_MESSAGE`]; the stream is not capped.
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, MAX_JSON_MESSAGE, u64::MAX)
    }

    /// One message at most `max_message` bytes, the stream at most `total`.
    pub fn with_limits(reader: R, max_message: u64, total: u64) -> Self {
        let meter = Arc::new(Meter {
            read: AtomicU64::new(0),
            until: AtomicU64::new(max_message.min(total)),
            max_message,
            total,
        });
        let reader = Metered {
            inner: reader,
            meter: meter.clone(),
        };
        // serde_json reads byte by byte: without a buffer each byte is a
        // call down through the HTTP body decoder.
        let reader = io::BufReader::with_capacity(STREAM_BUFFER, reader);
        JsonStream {
            inner: serde_json::Deserializer::from_reader(reader).into_iter(),
            meter,
            done: false,
        }
    }
}

impl<R: Read, T: DeserializeOwned> Iterator for JsonStream<R, T> {
    type Item = Result<T, serde_json::Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The next message starts where the last one ended.
        let start = self.inner.byte_offset() as u64;
        let m = &self.meter;
        m.until.store(
            start.saturating_add(m.max_message).min(m.total),
            Ordering::Relaxed,
        );
        let item = self.inner.next();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// One line of `POST /images/create` progress, as dockerd writes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProgressMessage {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, rename = "progressDetail")]
    pub progress_detail: Option<ProgressDetail>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default, rename = "errorDetail")]
    pub error_detail: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProgressDetail {
    #[serde(default)]
    pub current: Option<u64>,
    #[serde(default)]
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
}

/// What a pull reports, one event per progress message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullEvent {
    /// Progress of one layer: `Pulling fs layer`, `Downloading` (with bytes),
    /// `Extracting`, `Pull complete`, `Already exists`, ...
    Layer {
        id: String,
        status: String,
        current: Option<u64>,
        total: Option<u64>,
    },
    /// A message about the whole image: `Pulling from ...`, `Digest: ...`,
    /// `Status: Downloaded newer image for ...`.
    Status(String),
}

impl ProgressMessage {
    /// The event, or the error message the daemon put in the stream.
    pub fn into_event(self) -> Result<PullEvent, String> {
        if let Some(e) = self
            .error_detail
            .and_then(|d| d.message)
            .or(self.error)
            .filter(|m| !m.is_empty())
        {
            return Err(e);
        }
        let status = self.status.unwrap_or_default();
        let detail = self.progress_detail.unwrap_or_default();
        match self.id {
            // "Pulling from maestro-lab/box" comes with the tag as its id.
            Some(id) if !id.is_empty() && !status.starts_with("Pulling from") => {
                Ok(PullEvent::Layer {
                    id,
                    status,
                    current: detail.current,
                    total: detail.total,
                })
            }
            _ => Ok(PullEvent::Status(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![kind, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn demultiplexes_frames() {
        let mut body = frame(1, b"hi\n");
        body.extend(frame(2, b"oops\n"));
        body.extend(frame(1, b""));
        let frames: Vec<_> = Frames::new(Cursor::new(body), Framing::Multiplexed)
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(
            frames,
            vec![
                Frame {
                    stream: StreamKind::Stdout,
                    data: b"hi\n".to_vec()
                },
                Frame {
                    stream: StreamKind::Stderr,
                    data: b"oops\n".to_vec()
                },
                Frame {
                    stream: StreamKind::Stdout,
                    data: vec![]
                },
            ]
        );
    }

    #[test]
    fn detects_multiplexed_and_raw() {
        let body = frame(2, b"err");
        let mut f = Frames::new(Cursor::new(body), Framing::Detect);
        assert_eq!(f.next().unwrap().unwrap().stream, StreamKind::Stderr);
        assert_eq!(f.framing(), Framing::Multiplexed);
        assert!(f.next().is_none());

        let raw = b"hello from a tty\r\n".to_vec();
        let got: Vec<u8> = Frames::new(Cursor::new(raw.clone()), Framing::Detect)
            .map(|f| f.unwrap().data)
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(got, raw);

        let short: Vec<_> = Frames::new(Cursor::new(b"ok".to_vec()), Framing::Detect)
            .map(|f| f.unwrap().data)
            .collect();
        assert_eq!(short, vec![b"ok".to_vec()]);
        assert!(
            Frames::new(Cursor::new(Vec::new()), Framing::Detect)
                .next()
                .is_none()
        );
    }

    #[test]
    fn truncated_and_malformed_frames_are_errors_not_panics() {
        let mut body = frame(1, b"hello");
        body.truncate(10);
        let mut f = Frames::new(Cursor::new(body), Framing::Multiplexed);
        let e = f.next().unwrap().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(f.next().is_none());

        let mut f = Frames::new(Cursor::new(vec![1, 0, 0]), Framing::Multiplexed);
        assert!(f.next().unwrap().is_err());

        let mut f = Frames::new(
            Cursor::new(vec![7, 0, 0, 0, 0, 0, 0, 1, 0]),
            Framing::Multiplexed,
        );
        assert!(
            f.next()
                .unwrap()
                .unwrap_err()
                .to_string()
                .contains("unknown stream type")
        );

        let mut f = Frames::new(
            Cursor::new(vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Framing::Multiplexed,
        );
        assert!(
            f.next()
                .unwrap()
                .unwrap_err()
                .to_string()
                .contains("announced")
        );
    }

    const PULL: &str = r#"{"status":"Pulling from maestro-lab/box","id":"1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"a1b2"}
{"status":"Downloading","progressDetail":{"current":512,"total":1024},"progress":"[=>  ]","id":"a1b2"}{"status":"Download complete","progressDetail":{},"id":"a1b2"}
{"status":"Pull complete","progressDetail":{},"id":"a1b2"}
{"status":"Digest: sha256:abc"}
{"status":"Status: Downloaded newer image for 10.213.0.30:5000/maestro-lab/box:1"}
"#;

    #[test]
    fn parses_pull_progress_per_layer() {
        let events: Vec<PullEvent> = JsonStream::<_, ProgressMessage>::new(Cursor::new(PULL))
            .map(|m| m.unwrap().into_event().unwrap())
            .collect();
        assert_eq!(events.len(), 7);
        assert_eq!(
            events[0],
            PullEvent::Status("Pulling from maestro-lab/box".into())
        );
        assert_eq!(
            events[2],
            PullEvent::Layer {
                id: "a1b2".into(),
                status: "Downloading".into(),
                current: Some(512),
                total: Some(1024)
            }
        );
        assert!(matches!(&events[6], PullEvent::Status(s) if s.starts_with("Status: Downloaded")));
    }

    #[test]
    fn surfaces_errors_in_the_stream() {
        let body = r#"{"status":"Pulling from x","id":"1"}
{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}"#;
        let mut s = JsonStream::<_, ProgressMessage>::new(Cursor::new(body));
        assert!(s.next().unwrap().unwrap().into_event().is_ok());
        assert_eq!(
            s.next().unwrap().unwrap().into_event().unwrap_err(),
            "unauthorized: authentication required"
        );
    }

    #[test]
    fn malformed_json_ends_the_stream_with_an_error() {
        let mut s =
            JsonStream::<_, ProgressMessage>::new(Cursor::new(r#"{"status":"a"}{"status":"#));
        assert!(s.next().unwrap().is_ok());
        assert!(s.next().unwrap().is_err());
        assert!(s.next().is_none());
    }

    /// `0` over and over, forever.
    struct Cycle(Vec<u8>, usize);

    impl Read for Cycle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < buf.len() {
                buf[n] = self.0[self.1 % self.0.len()];
                self.1 += 1;
                n += 1;
            }
            Ok(n)
        }
    }

    #[test]
    fn a_message_that_never_ends_is_cut_at_the_message_limit() {
        // An endless string: without a limit serde_json would buffer it all.
        let endless = io::repeat(b'a');
        let body = Cursor::new(br#"{"status":"ok"}{"status":""#.to_vec()).chain(endless);
        let mut s = JsonStream::<_, ProgressMessage>::with_limits(body, 1000, u64::MAX);
        assert!(s.next().unwrap().is_ok());
        let e = s.next().unwrap().unwrap_err();
        assert!(e.is_io(), "{e}");
        assert_eq!(e.io_error_kind(), Some(io::ErrorKind::InvalidData));
        assert!(e.to_string().contains("larger than 1000 bytes"), "{e}");
        assert!(s.next().is_none());
    }

    #[test]
    fn many_small_messages_pass_the_message_limit_but_not_the_total() {
        let msg = br#"{"status":"Downloading","id":"a"}"#;
        let body: Vec<u8> = msg.repeat(100);
        // Each message is far below the message limit, 100 of them above it.
        let n = JsonStream::<_, ProgressMessage>::with_limits(
            Cursor::new(body),
            msg.len() as u64 * 2,
            u64::MAX,
        )
        .filter(|m| m.is_ok())
        .count();
        assert_eq!(n, 100);

        let endless = Cycle(msg.to_vec(), 0);
        let mut s = JsonStream::<_, ProgressMessage>::with_limits(endless, 1000, 10_000);
        let mut ok = 0;
        let e = loop {
            match s.next().unwrap() {
                Ok(_) => ok += 1,
                Err(e) => break e,
            }
        };
        assert!(ok > 0 && ok <= 10_000 / msg.len(), "{ok}");
        assert!(
            e.to_string().contains("past its limit of 10000 bytes"),
            "{e}"
        );
    }
}
