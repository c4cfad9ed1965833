//! The YAML most environment files are written in, read without the
//! general parser: block mappings and sequences, and one-line scalars and
//! flow collections, with anchors and aliases, in printable ASCII.
//!
//! It produces exactly the events (and spans) the general parser would,
//! for the same `Builder`, at a fraction of the cost: one pass over the
//! lines, no token queue. It gives up (None) on everything else, at the
//! first sign of it: tags, block scalars (`|`, `>`), multi-line scalars and
//! flow collections, explicit keys (`?`), document markers and directives,
//! tabs, carriage returns, other characters than printable ASCII, and every
//! syntax error. The file is then read by the general parser, which also
//! words every error. A test compares the events of both on generated
//! files, span by span.
//!
//! A large file is read on two threads, split at a key past its middle
//! (`build_split`); the tree is the same, node for node.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use serde_saphyr::granit_parser::{Event, Marker, ScalarStyle, Span, StructureStyle};

use super::Node;
use super::events::{self, Builder, Part};

/// Files from which the lines past the middle are read on another thread
/// (see `build_split`); below, a thread costs more than it saves.
const SPLIT_BYTES: usize = 512 * 1024;

/// The tree of `src`, or None when the general parser must read it.
pub(super) fn build(src: &str) -> Option<Node> {
    match split_line(src) {
        Some(split) => build_split(src, split).0,
        None => build_here(src),
    }
}

/// `build` on the calling thread alone.
fn build_here(src: &str) -> Option<Node> {
    let mut builder = Builder::new(src);
    Reader::new(src, &mut builder)?.document()?;
    builder.finish()
}

/// `build` on two threads: another thread reads the entries of the block
/// mapping that holds the key at byte `start` (at `column`), from there to
/// the mapping's end, while this one reads the lines before. Arriving at
/// that key, this thread splices the entries in and goes on from where
/// the other stopped. The other thread has not seen the anchors before
/// its lines: the aliases of those are settled here (`Part`).
///
/// Any block mapping at that column with a key on that line reads the
/// same from there, so the other thread needs to know nothing else. If
/// this thread never arrives there as at a key (the line is inside
/// something else), or the other gave up, the lines are read here as
/// always. Also returns whether the other thread's entries were used.
fn build_split(src: &str, (start, column): (usize, usize)) -> (Option<Node>, bool) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, part) = mpsc::sync_channel(1);
        let stop = &stop;
        let helper = std::thread::Builder::new()
            .name("yaml-part".into())
            .spawn_scoped(scope, move || {
                crate::heap::prepare_thread();
                let _ = sender.send(read_part(src, start, column, stop));
            });
        if helper.is_err() {
            return (build_here(src), false);
        }
        let mut builder = Builder::new(src);
        let mut spliced = false;
        let read = Reader::new(src, &mut builder).and_then(|mut reader| {
            reader.split = Some(Split {
                start,
                column,
                part,
            });
            let read = reader.document();
            spliced = reader.spliced;
            read
        });
        // The other thread, if still reading, stops at its next line.
        stop.store(true, Ordering::Relaxed);
        (read.and_then(|()| builder.finish()), spliced)
    })
}

/// Where another thread starts reading a large file (see `build_split`):
/// the byte and the indentation of the first of the least indented keys in
/// the eighth of the file after its middle. None for smaller files, and
/// with one core.
fn split_line(src: &str) -> Option<(usize, usize)> {
    if src.len() < SPLIT_BYTES || !events::two_cores() {
        return None;
    }
    let bytes = src.as_bytes();
    let middle = src.len() / 2;
    let mut at = middle + memchr::memchr(b'\n', &bytes[middle..])? + 1;
    let until = (at + src.len() / 8).min(bytes.len());
    let mut best: Option<(usize, usize)> = None;
    while at < until {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p);
        let line = &bytes[at..end];
        let indent = line.iter().take_while(|&&b| b == b' ').count();
        let key = match line.get(indent) {
            None | Some(b'#') => false,
            Some(b'-') => !matches!(line.get(indent + 1), None | Some(b' ')),
            Some(_) => true,
        };
        if key && best.is_none_or(|(_, least)| indent < least) {
            best = Some((at, indent));
        }
        at = end + 1;
    }
    best
}

/// What another thread read (see `build_split`): the entries, its own
/// anchors' names, the names its aliases gave that it had not seen (in
/// the order of `Part`'s), and the line it stopped at.
struct Read<'a> {
    part: Part,
    anchors: Vec<&'a str>,
    unresolved: Vec<&'a str>,
    position: Position,
}

/// Where a reader is: the current line's start, end, number and
/// indentation, whether it is done and whether it refused the file.
type Position = (usize, usize, usize, usize, bool, bool);

/// The entries of a block mapping from its key at byte `start` (at
/// `column`) to the mapping's end; None when the reader gives up or is
/// stopped.
fn read_part<'a>(
    src: &'a str,
    start: usize,
    column: usize,
    stop: &'a AtomicBool,
) -> Option<Read<'a>> {
    let mut builder = Builder::for_part(src);
    let mut reader = Reader::resume(src, start, &mut builder, stop)?;
    if reader.indent != column {
        return None;
    }
    reader.entries(start + column, column)?;
    let position = reader.position();
    let (anchors, unresolved) = (reader.anchors, reader.unresolved?);
    let part = builder.into_part()?;
    (!stop.load(Ordering::Relaxed)).then_some(Read {
        part,
        anchors,
        unresolved,
        position,
    })
}

/// The line at which another thread reads on (see `build_split`), and
/// where what it read arrives.
struct Split<'a> {
    start: usize,
    column: usize,
    part: mpsc::Receiver<Option<Read<'a>>>,
}

/// Where the reader's events go.
trait Sink<'a> {
    fn event(&mut self, event: Event<'a>, span: Span) -> Option<()>;

    /// Another thread's entries of the block mapping being read (see
    /// `Builder::splice`); None when the tree is not to be built here.
    fn splice(&mut self, part: Part, targets: &[usize], first_anchor: usize) -> Option<()>;
}

impl<'a> Sink<'a> for &mut Builder<'_> {
    fn event(&mut self, event: Event<'a>, span: Span) -> Option<()> {
        self.push(event, &span)
    }

    fn splice(&mut self, part: Part, targets: &[usize], first_anchor: usize) -> Option<()> {
        Builder::splice(self, part, targets, first_anchor)
    }
}

/// The events of `src`, or None (for the test against the general parser).
#[cfg(test)]
pub(super) fn events(src: &str) -> Option<Vec<(Event<'_>, Span)>> {
    struct Collect<'a>(Vec<(Event<'a>, Span)>);
    impl<'a> Sink<'a> for &mut Collect<'a> {
        fn event(&mut self, event: Event<'a>, span: Span) -> Option<()> {
            self.0.push((event, span));
            Some(())
        }
        fn splice(&mut self, _: Part, _: &[usize], _: usize) -> Option<()> {
            None
        }
    }
    let mut out = Collect(Vec::new());
    Reader::new(src, &mut out)?.document()?;
    Some(out.0)
}

/// Where the reader is: one line at a time, skipping blank lines and
/// comments.
struct Reader<'a, S> {
    src: &'a str,
    bytes: &'a [u8],
    /// The current line: its first byte, its end (the `\n`, or the end
    /// of the file), its number (1-based) and its indentation.
    start: usize,
    end: usize,
    number: usize,
    indent: usize,
    /// No line is left.
    done: bool,
    /// A document marker or a directive was seen: the file is not read.
    refused: bool,
    /// Anchor names, in order of definition: an alias names the last one.
    anchors: Vec<&'a str>,
    /// How far a key's `:` may be from its start (YAML's limit on implicit
    /// keys, as the general parser applies it).
    key_reach: usize,
    sink: S,
    /// Reading a part (see `build_split`): the names of aliases of anchors
    /// not seen, in order, and when to stop.
    unresolved: Option<Vec<&'a str>>,
    stop: Option<&'a AtomicBool>,
    /// The line from which another thread reads, and whether its entries
    /// were spliced in.
    split: Option<Split<'a>>,
    spliced: bool,
}

/// An anchor's number, as the general parser gives them: 1 for the first
/// one defined, 0 for none.
type Anchor = usize;

impl<'a, S: Sink<'a>> Reader<'a, S> {
    /// None for text outside printable ASCII and line feeds.
    fn new(src: &'a str, sink: S) -> Option<Self> {
        printable(src.as_bytes()).then(|| Reader::before_first_line(src, sink))
    }

    /// A reader of the whole of `src`, not yet on its first line.
    fn before_first_line(src: &'a str, sink: S) -> Self {
        Reader {
            src,
            bytes: src.as_bytes(),
            start: 0,
            end: 0,
            number: 0,
            indent: 0,
            done: false,
            refused: false,
            anchors: Vec::new(),
            key_reach: events::parser_options().simple_key_max_lookahead,
            sink,
            unresolved: None,
            stop: None,
            split: None,
            spliced: false,
        }
    }

    /// A reader of a part (see `build_split`), at the line starting at
    /// byte `start`; None for text after it outside printable ASCII.
    fn resume(src: &'a str, start: usize, sink: S, stop: &'a AtomicBool) -> Option<Self> {
        let bytes = src.as_bytes();
        if start == 0 || bytes.get(start - 1) != Some(&b'\n') || !printable(&bytes[start..]) {
            return None;
        }
        let mut reader = Reader {
            // As if the line before had just been read.
            end: start - 1,
            number: memchr::memchr_iter(b'\n', &bytes[..start]).count(),
            unresolved: Some(Vec::new()),
            stop: Some(stop),
            ..Reader::before_first_line(src, sink)
        };
        (reader.next_line() && reader.start == start).then_some(reader)
    }

    fn position(&self) -> Position {
        (
            self.start,
            self.end,
            self.number,
            self.indent,
            self.done,
            self.refused,
        )
    }

    /// Moves to where another reader is (see `position`).
    fn move_to(&mut self, position: Position) {
        (
            self.start,
            self.end,
            self.number,
            self.indent,
            self.done,
            self.refused,
        ) = position;
    }

    fn emit(&mut self, event: Event<'a>, from: usize, to: usize) -> Option<()> {
        let span = Span::new(self.marker(from), self.marker(to));
        self.sink.event(event, span)
    }

    /// A position on the current line (or, at `end`, just after it).
    fn marker(&self, at: usize) -> Marker {
        marker_on(at, (self.number, self.start))
    }

    fn byte(&self, at: usize) -> u8 {
        if at < self.end { self.bytes[at] } else { b'\n' }
    }

    /// Moves to the next line with content; false at the end of the file
    /// (or at a document marker or directive, which refuse the file).
    fn next_line(&mut self) -> bool {
        if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
            self.done = true;
            return false;
        }
        let mut at = if self.number == 0 { 0 } else { self.end + 1 };
        while at < self.bytes.len() || (at == self.bytes.len() && self.number == 0) {
            self.number += 1;
            let end = memchr::memchr(b'\n', &self.bytes[at..]).map_or(self.bytes.len(), |p| at + p);
            let indent = self.bytes[at..end]
                .iter()
                .take_while(|&&b| b == b' ')
                .count();
            self.start = at;
            self.end = end;
            self.indent = indent;
            let line = &self.bytes[at..end];
            if indent == 0
                && (line.starts_with(b"---") || line.starts_with(b"...") || line.starts_with(b"%"))
            {
                self.refused = true;
                break;
            }
            if indent < line.len() && line[indent] != b'#' {
                return true;
            }
            at = end + 1;
        }
        self.done = true;
        false
    }

    /// The events of the file's one document (its nodes only: the stream
    /// and the document are implicit).
    fn document(&mut self) -> Option<()> {
        if !self.next_line() {
            return None;
        }
        self.block(self.indent, 0)?;
        (self.done && !self.refused).then_some(())
    }

    /// Whether the current line's content at `at` is a sequence entry.
    fn is_entry(&self, at: usize) -> bool {
        self.byte(at) == b'-' && matches!(self.byte(at + 1), b' ' | b'\n')
    }

    /// The block collection whose first line is the current one, at
    /// column `indent`; returns when a line is less indented.
    fn block(&mut self, indent: usize, anchor: Anchor) -> Option<()> {
        let at = self.start + indent;
        if self.is_entry(at) {
            self.emit(
                Event::SequenceStart(StructureStyle::Block, anchor, None),
                at,
                at,
            )?;
            self.sequence(indent, false)
        } else {
            self.mapping(at, anchor)
        }
    }

    /// A block mapping whose first key is at `at` on the current line (in
    /// a sequence entry, after its `- `); the other keys are at the same
    /// column, at the start of their lines.
    fn mapping(&mut self, at: usize, anchor: Anchor) -> Option<()> {
        let column = at - self.start;
        self.emit(
            Event::MappingStart(StructureStyle::Block, anchor, None),
            at,
            at,
        )?;
        self.entries(at, column)?;
        self.emit(Event::MappingEnd, self.start, self.start)
    }

    /// A block mapping's entries at `column`, the first one's key at
    /// `at`; returns on the first line less indented (or at the end).
    fn entries(&mut self, mut at: usize, column: usize) -> Option<()> {
        loop {
            if !self.took_over(at, column)? {
                let colon = self.key(at)?;
                self.value_of_key(colon, column)?;
            }
            if self.done || self.indent < column {
                return Some(());
            }
            if self.indent > column || self.is_entry(self.start + column) {
                return None;
            }
            at = self.start + column;
        }
    }

    /// At the key from which another thread read on (see `build_split`):
    /// splices its entries in and moves to where it stopped. False
    /// elsewhere, and when it gave up (the entries are read here).
    fn took_over(&mut self, at: usize, column: usize) -> Option<bool> {
        let here = self
            .split
            .as_ref()
            .is_some_and(|s| s.start == self.start && s.column == column && at == s.start + column);
        if !here {
            return Some(false);
        }
        let split = self.split.take()?;
        let Ok(Some(read)) = split.part.recv() else {
            return Some(false);
        };
        // An alias names the last anchor of its name before it; none of
        // the other thread's came before.
        let targets = read
            .unresolved
            .iter()
            .map(|&name| self.anchors.iter().rposition(|&a| a == name).map(|i| i + 1))
            .collect::<Option<Vec<_>>>()?;
        self.sink
            .splice(read.part, &targets, self.anchors.len() + 1)?;
        self.anchors.extend(read.anchors);
        self.move_to(read.position);
        self.spliced = true;
        Some(true)
    }

    /// A block mapping's key at `at` (emitted); returns where its `:` is.
    fn key(&mut self, at: usize) -> Option<usize> {
        let end = self.scalar(at, 0, Self::plain_key_end)?;
        (self.byte(end) == b':'
            && matches!(self.byte(end + 1), b' ' | b'\n')
            && self.within_reach(at, end))
        .then_some(end)
    }

    /// A quoted or plain scalar at `at` (emitted, with `anchor`), on one
    /// line; `plain_end` says where a plain one ends in its context.
    /// Returns its end.
    fn scalar(
        &mut self,
        at: usize,
        anchor: Anchor,
        plain_end: fn(&Self, usize) -> Option<usize>,
    ) -> Option<usize> {
        let (value, style, end) = match self.byte(at) {
            quote @ (b'"' | b'\'') => {
                let (value, end) = self.quoted(at, quote)?;
                (value, style(quote), end)
            }
            _ => {
                let end = plain_end(self, at)?;
                let src = self.src;
                (Cow::Borrowed(&src[at..end]), ScalarStyle::Plain, end)
            }
        };
        self.emit(Event::Scalar(value, style, anchor, None), at, end)?;
        Some(end)
    }

    /// Whether a key from `at` to its `:` at `colon` is short enough for
    /// the general parser to take it as one (it refuses longer ones).
    fn within_reach(&self, at: usize, colon: usize) -> bool {
        colon - at < self.key_reach
    }

    /// The end of a plain key starting at `at`: its `: ` (or `:` at the
    /// end of the line), with no space before it.
    fn plain_key_end(&self, at: usize) -> Option<usize> {
        if !plain_start(self.byte(at), self.byte(at + 1)) {
            return None;
        }
        let mut i = at;
        while i < self.end {
            match self.bytes[i] {
                b':' if matches!(self.byte(i + 1), b' ' | b'\n') => {
                    return (self.bytes[i - 1] != b' ').then_some(i);
                }
                b'#' if self.bytes[i - 1] == b' ' => return None,
                _ => i += 1,
            }
        }
        None
    }

    /// The value after a block mapping's `:` at `colon`, in a mapping at
    /// `column`; ends on the next line with content.
    fn value_of_key(&mut self, colon: usize, column: usize) -> Option<()> {
        let at = self.skip_spaces(colon + 1);
        let (anchor, at) = self.anchor(at)?;
        if self.rest_is_empty(at) {
            let line = (self.number, self.start);
            let more = self.next_line();
            if more && self.indent > column {
                return self.block(self.indent, anchor);
            }
            if more && self.indent == column && self.is_entry(self.start + column) {
                return self.indentless(column, anchor);
            }
            // A null, located at the `:` (an anchored one is left alone).
            return if anchor == 0 {
                self.null(colon, line)
            } else {
                None
            };
        }
        self.inline(at, anchor)?;
        self.next_line_not_deeper(column)
    }

    /// A null at byte `at` of an earlier line (its number and start).
    fn null(&mut self, at: usize, line: (usize, usize)) -> Option<()> {
        let mark = marker_on(at, line);
        self.sink.event(
            Event::Scalar(Cow::Borrowed("~"), ScalarStyle::Plain, 0, None),
            Span::new(mark, mark),
        )
    }

    /// A block sequence whose entries are at `column`; the current line is
    /// its first entry. Nested in a mapping at the same column
    /// (`indentless`), it ends on a line at that column that is not an
    /// entry.
    fn sequence(&mut self, column: usize, indentless: bool) -> Option<()> {
        loop {
            let dash = self.start + column;
            let at = self.skip_spaces(dash + 1);
            self.entry(at, column)?;
            if self.done || self.indent < column {
                break;
            }
            if self.indent > column {
                return None;
            }
            if !self.is_entry(self.start + column) {
                if indentless {
                    break;
                }
                return None;
            }
        }
        self.emit(Event::SequenceEnd, self.start, self.start)
    }

    /// A sequence at the column of its mapping's key (`key:` then `- x`
    /// on the next line, at the key's column): it starts where its first
    /// entry's content does.
    fn indentless(&mut self, column: usize, anchor: Anchor) -> Option<()> {
        let at = self.skip_spaces(self.start + column + 1);
        let first = if self.rest_is_empty(at) { self.end } else { at };
        self.emit(
            Event::SequenceStart(StructureStyle::Block, anchor, None),
            first,
            first,
        )?;
        self.sequence(column, true)
    }

    /// A sequence entry's content at `at` (after `- `), in a sequence at
    /// `column`; ends on the next line with content.
    fn entry(&mut self, at: usize, column: usize) -> Option<()> {
        if self.is_entry(at) {
            return None;
        }
        let (anchor, at) = self.anchor(at)?;
        if self.rest_is_empty(at) {
            let (end, line) = (self.end, (self.number, self.start));
            if self.next_line() && self.indent > column {
                return self.block(self.indent, anchor);
            }
            // A null, located at the end of the entry's line.
            return if anchor == 0 {
                self.null(end, line)
            } else {
                None
            };
        }
        if anchor == 0 && self.looks_like_key(at) {
            self.mapping(at, 0)?;
            return Some(());
        }
        self.inline(at, anchor)?;
        self.next_line_not_deeper(column)
    }

    /// Whether the text at `at` is a mapping's first key (`- key: value`).
    fn looks_like_key(&self, at: usize) -> bool {
        match self.byte(at) {
            quote @ (b'"' | b'\'') => self
                .quoted(at, quote)
                .is_some_and(|(_, end)| self.byte(end) == b':'),
            _ => self.plain_key_end(at).is_some(),
        }
    }

    /// After a value on the current line: the next line with content,
    /// which must not be deeper than `column` (that would continue the
    /// value over lines).
    fn next_line_not_deeper(&mut self, column: usize) -> Option<()> {
        if self.next_line() && self.indent > column {
            return None;
        }
        Some(())
    }

    /// An anchor (`&name `) at `at`, if any: its number and what follows.
    fn anchor(&mut self, at: usize) -> Option<(Anchor, usize)> {
        if self.byte(at) != b'&' {
            return Some((0, at));
        }
        let end = self.name_end(at + 1)?;
        if !matches!(self.byte(end), b' ' | b'\n') {
            return None;
        }
        self.anchors.push(&self.src[at + 1..end]);
        Some((self.anchors.len(), self.skip_spaces(end)))
    }

    /// The end of an anchor's or alias's name starting at `at`.
    fn name_end(&self, at: usize) -> Option<usize> {
        let len = self.bytes[at..self.end]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            .count();
        (len > 0).then_some(at + len)
    }

    /// A value that ends on its line at `at` (a scalar, an alias or a
    /// flow collection), with nothing but a comment after it.
    fn inline(&mut self, at: usize, anchor: Anchor) -> Option<()> {
        let end = match self.byte(at) {
            b'[' | b'{' => self.flow(at, anchor)?,
            b'*' if anchor == 0 => self.alias(at)?,
            _ => self.scalar(at, anchor, Self::plain_end)?,
        };
        self.rest_is_empty(end).then_some(())
    }

    /// The end of a plain scalar in block context: before a comment or
    /// the line's trailing spaces. None when it holds `: ` (an error, or a
    /// mapping the reader does not take).
    fn plain_end(&self, at: usize) -> Option<usize> {
        if !plain_start(self.byte(at), self.byte(at + 1)) {
            return None;
        }
        let mut i = at;
        let mut end = at;
        while i < self.end {
            match self.bytes[i] {
                b':' if matches!(self.byte(i + 1), b' ' | b'\n') => return None,
                b'#' if self.bytes[i - 1] == b' ' => break,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
        Some(end)
    }

    /// An alias (`*name`) at `at` (emitted); returns its end.
    fn alias(&mut self, at: usize) -> Option<usize> {
        let end = self.name_end(at + 1)?;
        let name = &self.src[at + 1..end];
        let id = match self.anchors.iter().rposition(|&a| a == name) {
            Some(i) => i + 1,
            // Reading a part: settled when it is spliced.
            None => {
                let unresolved = self.unresolved.as_mut()?;
                unresolved.push(name);
                events::UNRESOLVED + unresolved.len() - 1
            }
        };
        self.emit(Event::Alias(id), at, end)?;
        Some(end)
    }

    /// A quoted scalar at `at` on one line: its value and end.
    fn quoted(&self, at: usize, quote: u8) -> Option<(Cow<'a, str>, usize)> {
        let mut i = at + 1;
        let mut escaped = false;
        while i < self.end {
            match self.bytes[i] {
                b'\\' if quote == b'"' => return None,
                b'\'' if quote == b'\'' && self.byte(i + 1) == b'\'' => {
                    escaped = true;
                    i += 2;
                }
                b if b == quote => {
                    let text = &self.src[at + 1..i];
                    let value = if escaped {
                        Cow::Owned(text.replace("''", "'"))
                    } else {
                        Cow::Borrowed(text)
                    };
                    return Some((value, i + 1));
                }
                _ => i += 1,
            }
        }
        None
    }

    /// A flow collection at `at`, all on the current line (emitted, with
    /// `anchor`); returns its end.
    fn flow(&mut self, at: usize, anchor: Anchor) -> Option<usize> {
        let map = self.byte(at) == b'{';
        let close = if map { b'}' } else { b']' };
        let start = if map {
            Event::MappingStart(StructureStyle::Flow, anchor, None)
        } else {
            Event::SequenceStart(StructureStyle::Flow, anchor, None)
        };
        self.emit(start, at, at + 1)?;
        let mut i = self.skip_spaces(at + 1);
        if self.byte(i) != close {
            loop {
                if map {
                    i = self.flow_key(i)?;
                }
                i = self.flow_node(i)?;
                i = self.skip_spaces(i);
                match self.byte(i) {
                    b',' => i = self.skip_spaces(i + 1),
                    b if b == close => break,
                    _ => return None,
                }
                // A trailing comma is the general parser's.
                if self.byte(i) == close {
                    return None;
                }
            }
        }
        let end = if map {
            Event::MappingEnd
        } else {
            Event::SequenceEnd
        };
        self.emit(end, i, i + 1)?;
        Some(i + 1)
    }

    /// A flow mapping's key at `at` (emitted) and its `: `; returns where
    /// the value starts.
    fn flow_key(&mut self, at: usize) -> Option<usize> {
        let end = self.scalar(at, 0, Self::flow_plain_end)?;
        if self.byte(end) != b':' || self.byte(end + 1) != b' ' || !self.within_reach(at, end) {
            return None;
        }
        let value = self.skip_spaces(end + 1);
        // `{a: }`: a null value is the general parser's.
        (!matches!(self.byte(value), b',' | b'}' | b'\n')).then_some(value)
    }

    /// A value in a flow collection at `at` (emitted); returns its end
    /// (a `:` after it, a single-pair mapping, makes `flow` give up).
    fn flow_node(&mut self, at: usize) -> Option<usize> {
        let (anchor, at) = self.anchor(at)?;
        match self.byte(at) {
            b'[' | b'{' => self.flow(at, anchor),
            b'*' if anchor == 0 => self.alias(at),
            _ => self.scalar(at, anchor, Self::flow_plain_end),
        }
    }

    /// The end of a plain scalar in a flow collection: before `,`, `]`,
    /// `}`, a `:` that ends a key, or trailing spaces. None when it holds
    /// `#` or a bracket, or goes on to the next line.
    fn flow_plain_end(&self, at: usize) -> Option<usize> {
        if !plain_start(self.byte(at), self.byte(at + 1)) {
            return None;
        }
        let mut i = at;
        let mut end = at;
        loop {
            match self.byte(i) {
                b',' | b']' | b'}' => return Some(end),
                b':' if matches!(
                    self.byte(i + 1),
                    b' ' | b',' | b'[' | b']' | b'{' | b'}' | b'\n'
                ) =>
                {
                    return Some(end);
                }
                b'#' | b'[' | b'{' | b'\n' => return None,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while at < self.end && self.bytes[at] == b' ' {
            at += 1;
        }
        at
    }

    /// Whether nothing but spaces and a comment follow `at` on its line
    /// (a comment starts with `#` after a space).
    fn rest_is_empty(&self, at: usize) -> bool {
        let next = self.skip_spaces(at);
        next == self.end || (self.bytes[next] == b'#' && (next > at || self.bytes[at - 1] == b' '))
    }
}

/// Whether `bytes` are printable ASCII and line feeds.
fn printable(bytes: &[u8]) -> bool {
    // Without an early exit, so that it runs on whole vectors.
    let other = |chunk: &[u8]| {
        chunk.iter().fold(false, |other, &b| {
            other | (b != b'\n' && !(b' '..=b'~').contains(&b))
        })
    };
    !bytes.chunks(4096).any(other)
}

/// Byte `at` of the line with this number and first byte.
fn marker_on(at: usize, (number, start): (usize, usize)) -> Marker {
    Marker::new(at, number, at.saturating_sub(start)).with_byte_offset(Some(at))
}

fn style(quote: u8) -> ScalarStyle {
    if quote == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    }
}

/// Whether a plain scalar may start with `first` (followed by `next`):
/// not with an indicator, except `-`, `?` and `:` before a character that
/// is not a space.
fn plain_start(first: u8, next: u8) -> bool {
    match first {
        b'-' | b'?' | b':' => !matches!(next, b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}'),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_saphyr::granit_parser::Parser;

    /// What the tree is built from: an event with the parts of its span
    /// that count (the start of every node, the end of a node's text).
    fn shape(event: &Event<'_>, span: &Span) -> String {
        let at = |s: &Span| {
            format!(
                "{}:{} {:?}..{:?}",
                s.start.line(),
                s.start.col(),
                s.start.byte_offset(),
                s.end.byte_offset()
            )
        };
        match event {
            Event::Scalar(..)
            | Event::Alias(_)
            | Event::SequenceStart(..)
            | Event::MappingStart(..) => format!("{event:?} @ {}", at(span)),
            Event::SequenceEnd | Event::MappingEnd => format!("{event:?}"),
            _ => String::new(),
        }
    }

    /// The general parser's events for `src`; None on its errors.
    fn general(src: &str) -> Option<Vec<String>> {
        Parser::new_from_str_with_options(src, super::super::events::parser_options())
            .map(|item| item.ok().map(|(e, s)| shape(&e, &s)))
            .filter(|s| s.as_deref() != Some(""))
            .collect()
    }

    /// Whether the reader took `src`; when it did, its events are the
    /// general parser's, span by span.
    fn alike(src: &str) -> bool {
        let Some(ours) = events(src) else {
            return false;
        };
        let ours: Vec<String> = ours
            .iter()
            .map(|(e, s)| shape(e, s))
            .filter(|s| !s.is_empty())
            .collect();
        let Some(theirs) = general(src) else {
            panic!("taken, but an error for the general parser:\n{src}");
        };
        if ours != theirs {
            let at = ours.iter().zip(&theirs).position(|(a, b)| a != b);
            panic!(
                "events differ at {at:?}:\nours   {:?}\ntheirs {:?}\nfor\n{src}",
                at.map(|i| &ours[i..]),
                at.map(|i| &theirs[i..])
            );
        }
        true
    }

    #[test]
    fn the_forms_it_takes_give_the_general_parsers_events() {
        let taken = [
            "a: 1\nb:\nc: x y  # comment\nd:\n  - p\n  -\n  - q: 1\n    r: 'it''s'\ne:\n- \"dq\"\n- {x: 1, y: [a, b]}\nf: {}\ng: []\nh: &h [1, 2]\ni: *h\nj:",
            "- a\n- b:\n-",
            "k: &a v\nl: [&b w, *b]\nm: &c\n  n: 1\n",
            "a:   # c\nb:  \nc:\n- \n- # c\n-   \n-\n  - y\n",
            "e:\n-\n- x\n",
            "e:\n- k: v\n  l: w\n- z\nf: 1\n",
            "\"q\": 1\n'r': 2\ns t: u v\n",
            "m: &c\n  - x\nn: &d\n- y\no: &e {a: 1}\np: &f\n  a: 2\n",
            "e:\n-\n  k: v\n",
            "z: &z 1\ne:\n- *z\n",
            "e:\n- &a\n  k: v\n",
            "e:\n  - &a x\n  - &b\n    - y\n",
            "a: 'x' \nb: \"y\"  # c\nc: [ a , \"b\" ,c ]\nd: {a: b, 'c': \"d\"}\nf: -x\ng: a:b\nh: x#y\ni: :x\nj: ?x\nk: a - b\n",
            "-\n  # c\n  - x\n",
            "_jvm: &jvm [-Xmx512m, [-XX:+UseG1GC, -Dfoo=bar]]\nenv: {JAVA_OPTS: *jvm, LEVEL: info}\n",
            "  indented: 1\n  root: 2\n",
            "# head\n\na: 1\n\n   # between\nb: [x]  # tail\n",
            "a:\n  - b: 1\n    c:\n      - d\n  - e\n",
            "url: http://x:80/p?q=1\nk[0]: v\n",
            &format!("{}: v\nf: {{{}: w}}\n", "k".repeat(1000), "q".repeat(1000)),
        ];
        for src in taken {
            assert!(alike(src), "not taken:\n{src}");
        }
        let left = [
            "a: |\n  x\n",
            "a: >-\n  x\n",
            "a: !!str 1\n",
            "---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: b\n  c\n",
            "a: \"x\\ty\"\n",
            "a: [x,\n  y]\n",
            "? a\n: b\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: é\n",
            "a: b: c\n",
            "- - x\n",
            "a: [x, y,]\n",
            "a: {x: }\n",
            "a: *missing\n",
            // Keys past YAML's 1,024 characters: the general parser refuses them.
            &format!("{}: v\n", "k".repeat(1030)),
            &format!("'{}': v\n", "k".repeat(1030)),
            &format!("f: {{{}: w}}\n", "q".repeat(1030)),
            &format!("- {}: v\n", "k".repeat(1030)),
            "a:\n  just text\n",
            "&a k: v\n",
            "a: 'x'y\n",
            "a: [x]#c\n",
            "a: 1\n b: 2\n",
            "",
            "# only\n",
            "text\n",
        ];
        for src in left {
            assert!(!alike(src), "taken:\n{src}");
        }
    }

    /// The environment files the fuzzer kept (`fuzz/corpus`): whatever the
    /// reader takes of them gives the general parser's events.
    #[test]
    fn the_fuzzers_files_give_the_general_parsers_events() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let (mut files, mut taken) = (0, 0);
        for target in ["environment", "limits"] {
            let Ok(entries) = std::fs::read_dir(root.join(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    files += 1;
                    taken += usize::from(alike(&text));
                }
            }
        }
        // 571 of 6,312 when this was written.
        assert!(files > 1000 && taken > 200, "{taken} of {files} taken");
    }

    /// A small deterministic generator of random numbers (xorshift).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    const PLAIN: &[&str] = &[
        "x",
        "a b",
        "-x",
        "a:b",
        "x#y",
        "a - b",
        "?q",
        ":c",
        "1",
        "-7",
        "1.20",
        "010",
        "true",
        "null",
        "~",
        "yes",
        "10.0.0.1",
        "8080:80",
        "a,b",
        "x[0]",
        "it's",
        "a\"b",
        "1e3",
        "http://h:1/p",
        "<<",
        "a  b",
    ];
    const QUOTED: &[&str] = &[
        "'x'", "'it''s'", "\"dq\"", "\"\"", "''", "'a: b'", "\"# no\"",
    ];
    const FLOW_PLAIN: &[&str] = &["x", "-Xmx1m", "-XX:+G1", "1", "a b", "10.0.0.1", "~", "y"];

    fn comment(rng: &mut Rng) -> &'static str {
        rng.pick(&["", "", "", "  # c", " #c", "   "])
    }

    fn key(rng: &mut Rng, n: usize) -> String {
        match rng.below(10) {
            0 => format!("'k{n}'"),
            1 => format!("\"k {n}\""),
            2 => format!(
                "{}{n}",
                rng.pick(&[
                    "-k", "k.", "k_", "K", "?k", ":k", "k:x", "k#x", "k x", "it's", "a\"b", "k[0]",
                    "k,"
                ])
            ),
            _ => format!("k{n}"),
        }
    }

    fn flow(rng: &mut Rng, depth: usize, anchors: &mut Vec<String>) -> String {
        let n = rng.below(4);
        let map = rng.below(2) == 0;
        let sep = rng.pick(&[", ", ",", " , "]);
        let items: Vec<String> = (0..n)
            .map(|i| {
                let value = match rng.below(7) {
                    0 if depth < 3 => flow(rng, depth + 1, anchors),
                    1 => rng.pick(QUOTED).to_string(),
                    2 if !anchors.is_empty() => format!("*{}", anchors[rng.below(anchors.len())]),
                    _ => rng.pick(FLOW_PLAIN).to_string(),
                };
                if map {
                    format!("{}: {value}", key(rng, i))
                } else {
                    value
                }
            })
            .collect();
        let pad = rng.pick(&["", " "]);
        if map {
            format!("{{{pad}{}{pad}}}", items.join(sep))
        } else {
            format!("[{pad}{}{pad}]", items.join(sep))
        }
    }

    /// A value written on its key's (or entry's) line.
    fn inline(rng: &mut Rng, anchors: &mut Vec<String>) -> String {
        let anchor = if rng.below(8) == 0 {
            let name = format!("a{}", anchors.len());
            anchors.push(name.clone());
            format!("&{name} ")
        } else {
            String::new()
        };
        let value = match rng.below(8) {
            0 => flow(rng, 0, anchors),
            1 => rng.pick(QUOTED).to_string(),
            2 if anchor.is_empty() && anchors.len() > 1 => {
                format!("*{}", anchors[rng.below(anchors.len() - 1)])
            }
            _ => rng.pick(PLAIN).to_string(),
        };
        format!("{anchor}{value}")
    }

    /// A block collection at `indent`, its lines appended to `out`.
    fn block(
        rng: &mut Rng,
        out: &mut String,
        indent: usize,
        depth: usize,
        anchors: &mut Vec<String>,
    ) {
        let pad = " ".repeat(indent);
        let map = rng.below(3) != 0;
        for i in 0..1 + rng.below(4) {
            if rng.below(6) == 0 {
                out.push_str(rng.pick(&["\n", "   \n", "# note\n", "  # note\n"]));
            }
            let head = if map {
                format!("{pad}{}:", key(rng, i))
            } else {
                format!("{pad}-")
            };
            let step = 1 + rng.below(3);
            match rng.below(6) {
                // Nested on the next lines, or indentless.
                0 | 1 if depth < 4 => {
                    out.push_str(&head);
                    out.push_str(comment(rng));
                    out.push('\n');
                    let indentless = map && rng.below(3) == 0;
                    let mut nested = String::new();
                    if indentless {
                        nested_sequence(rng, &mut nested, indent, depth, anchors);
                    } else {
                        block(rng, &mut nested, indent + step, depth + 1, anchors);
                    }
                    out.push_str(&nested);
                }
                // A compact mapping in an entry.
                2 if !map && depth < 4 => compact_entry(rng, out, indent, depth, anchors),
                // Nothing: null.
                3 => {
                    out.push_str(&head);
                    out.push_str(comment(rng));
                    out.push('\n');
                }
                _ => {
                    out.push_str(&format!(
                        "{head} {}{}\n",
                        inline(rng, anchors),
                        comment(rng)
                    ));
                }
            }
        }
    }

    fn block_map_at(
        rng: &mut Rng,
        out: &mut String,
        indent: usize,
        depth: usize,
        anchors: &mut Vec<String>,
    ) {
        let pad = " ".repeat(indent);
        for i in 0..1 + rng.below(3) {
            if depth < 4 && rng.below(4) == 0 {
                out.push_str(&format!("{pad}{}:\n", key(rng, i)));
                block(rng, out, indent + 2, depth + 1, anchors);
            } else {
                out.push_str(&format!("{pad}{}: {}\n", key(rng, i), inline(rng, anchors)));
            }
        }
    }

    /// A sequence entry at `indent` holding a mapping (`- key: value`).
    fn compact_entry(
        rng: &mut Rng,
        out: &mut String,
        indent: usize,
        depth: usize,
        anchors: &mut Vec<String>,
    ) {
        let mut nested = String::new();
        block_map_at(rng, &mut nested, indent + 2, depth + 1, anchors);
        out.push_str(&format!(
            "{}- {}",
            " ".repeat(indent),
            &nested[indent + 2..]
        ));
    }

    fn nested_sequence(
        rng: &mut Rng,
        out: &mut String,
        indent: usize,
        depth: usize,
        anchors: &mut Vec<String>,
    ) {
        let pad = " ".repeat(indent);
        for _ in 0..1 + rng.below(3) {
            match rng.below(4) {
                0 => out.push_str(&format!("{pad}-{}\n", comment(rng))),
                1 if depth < 4 => compact_entry(rng, out, indent, depth, anchors),
                _ => out.push_str(&format!(
                    "{pad}- {}{}\n",
                    inline(rng, anchors),
                    comment(rng)
                )),
            }
        }
    }

    /// Generated files of the subset, and the same with random edits: the
    /// reader takes most of the former, and whatever it takes, of either,
    /// gives the general parser's events.
    #[test]
    fn generated_files_give_the_general_parsers_events() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut files, mut taken, mut edited_taken) = (0, 0, 0);
        let edits: &[&str] = &[
            " ", ":", "-", "#", "'", "\"", "[", "]", "{", "}", ",", "&", "*", "\n", "  ", "- ",
            ": ", "!", "|",
        ];
        for _ in 0..3000 {
            let mut src = String::new();
            let mut anchors = Vec::new();
            block(&mut rng, &mut src, 0, 0, &mut anchors);
            files += 1;
            taken += usize::from(alike(&src));
            for _ in 0..3 {
                let mut edited = src.clone();
                for _ in 0..1 + rng.below(2) {
                    let at = rng.below(edited.len() + 1);
                    if rng.below(2) == 0 && at < edited.len() {
                        edited.remove(at);
                    } else {
                        edited.insert_str(at, rng.pick(edits));
                    }
                }
                edited_taken += usize::from(alike(&edited));
            }
        }
        assert!(taken * 10 >= files * 9, "{taken} of {files} taken");
        assert!(edited_taken > 1000, "{edited_taken} edited files taken");
    }

    // Reading on two threads.

    use super::super::tests::diff;

    /// Every line of `src` a key could start on: its byte and indentation.
    fn lines(src: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        for line in src.split_inclusive('\n') {
            if at > 0 {
                let indent = line.bytes().take_while(|&b| b == b' ').count();
                out.push((at, indent));
            }
            at += line.len();
        }
        out
    }

    /// `src` read on two threads from the line at `split` gives what it
    /// gives on one (a tree, node for node, or nothing); returns whether
    /// the other thread's entries were used.
    fn same_split(src: &str, split: (usize, usize)) -> bool {
        let (two, spliced) = build_split(src, split);
        let one = build_here(src);
        match (&two, &one) {
            (Some(two), Some(one)) => {
                let mut out = Vec::new();
                diff(two, one, "", &mut out);
                assert!(
                    out.is_empty(),
                    "{}\nsplit at {split:?} of\n{src}",
                    out.join("\n")
                );
            }
            (None, None) => {}
            _ => panic!(
                "{} on two threads (split at {split:?}), {} on one:\n{src}",
                two.is_some(),
                one.is_some()
            ),
        }
        spliced
    }

    #[test]
    fn a_part_read_on_another_thread_gives_the_same_tree() {
        let cases: &[(&str, &str, bool)] = &[
            // The part's aliases of anchors before it, settled when spliced.
            (
                "a: &x [1, 2]\nm:\n  k1: *x\n  k2: {v: *x, w: [*x]}\n  k3:\n    - *x\n",
                "  k2:",
                true,
            ),
            // The part's own anchor, used in it and after it.
            (
                "m:\n  k1: &x one\n  k2: &x two\n  k3: *x\n  k4:\n    - &y [a]\n    - *y\nz: *x\nw: *y\n",
                "  k2:",
                true,
            ),
            // An anchor of the lines before, named again in the part.
            (
                "a: &x before\nm:\n  k1: v\n  k2: &x inside\n  k3: *x\nz: *x\n",
                "  k2:",
                true,
            ),
            // The first key of its mapping.
            ("top: 1\nm:\n  k1: 1\n  k2: 2\nz: 3\n", "  k1:", true),
            // The root mapping.
            ("a: 1\nb: [2]\nc:\n  d: 3\n", "b:", true),
            // A mapping in a sequence entry (`- key: value`).
            ("s:\n  - a: 1\n    b: 2\n    c: 3\n  - x\n", "    b:", true),
            // An alias of an anchor before, inside an anchored node of the
            // part: read here instead.
            (
                "a: &x 1\nm:\n  k1: v\n  k2: &y [*x]\n  k3: *y\n",
                "  k2:",
                false,
            ),
            // Not a key where the reader arrives: inside a sequence.
            ("s:\n  - a\n  - b\nm:\n  k: v\n", "  - b", false),
            // A deeper line than the mapping's keys.
            ("m:\n  k1:\n    x: 1\n    y: 2\n", "    y:", true),
            // Errors and what the general parser must read, in the part:
            // nothing either way.
            // (The repeated key is found when the mapping ends, here.)
            ("m:\n  k1: 1\n  k2: 2\n  k2: 3\n", "  k2:", true),
            // A key repeated across the split.
            ("m:\n  k1: 1\n  k1: 2\n", "  k1: 2", true),
            ("m:\n  k1: 1\n  k2: |\n    text\n", "  k2:", false),
            ("m:\n  k1: 1\n  k2: *nowhere\n", "  k2:", false),
            ("m:\n  k1: 1\n  k2: 2\n---\nx: 1\n", "  k2:", true),
            ("m:\n  k1: 1\n  k2: &x [*x]\n", "  k2:", false),
            // An error before the line: nothing, and nothing spliced.
            ("m:\n  k1: &x [*x]\n  k2: 2\n", "  k2:", false),
            ("m: &m\n  k1: 1\n  k2: *m\n", "  k2:", false),
        ];
        for &(src, line, spliced) in cases {
            let start = src.find(&format!("\n{line}")).expect(line) + 1;
            let indent = line.bytes().take_while(|&b| b == b' ').count();
            assert_eq!(
                same_split(src, (start, indent)),
                spliced,
                "spliced or not at {line:?} of\n{src}"
            );
        }
        // Aliases nested 31 and 32 deep through an anchored mapping split
        // in two: the second is past what is built from events.
        for deep in [30, 31] {
            let mut src = String::from("a0: &a0 [x]\n");
            for i in 1..=deep {
                src.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
            }
            src.push_str(&format!("m: &m\n  k1: 1\n  k2: *a{deep}\nz: *m\n"));
            let start = src.find("  k2:").expect("k2");
            assert!(same_split(&src, (start, 2)));
            assert_eq!(build_here(&src).is_some(), deep == 30);
        }
        // Mappings nested 47 and 48 deep, most of them in the part.
        for deep in [45, 46] {
            let mut src = String::from("m:\n  k1: 1\n  k2:\n");
            for i in 0..deep {
                src.push_str(&format!("{}x{i}:\n", " ".repeat(3 + i)));
            }
            src.push_str(&format!("{}y: 1\n", " ".repeat(3 + deep)));
            let start = src.find("  k2:").expect("k2");
            assert!(same_split(&src, (start, 2)) == (deep == 45));
            assert_eq!(build_here(&src).is_some(), deep == 45);
        }
    }

    /// Generated files of the subset, and edited copies, split at every
    /// line: the same tree (or nothing) either way.
    #[test]
    fn generated_files_split_anywhere_give_the_same_tree() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let (mut splits, mut spliced, mut edited_spliced) = (0, 0, 0);
        for _ in 0..600 {
            let mut src = String::new();
            let mut anchors = Vec::new();
            block(&mut rng, &mut src, 0, 0, &mut anchors);
            for split in lines(&src) {
                splits += 1;
                spliced += usize::from(same_split(&src, split));
            }
            let mut edited = src.clone();
            let at = rng.below(edited.len() + 1);
            edited.insert_str(at, rng.pick(&[" ", ":", "-", "&a0 ", "*a0", "\n", "  "]));
            for split in lines(&edited) {
                edited_spliced += usize::from(same_split(&edited, split));
            }
        }
        assert!(spliced > 1000, "{spliced} of {splits} spliced");
        assert!(edited_spliced > 500, "{edited_spliced} edited splices");
    }

    /// A large file is read on two threads, split at the least indented
    /// key after its middle.
    #[test]
    fn a_large_file_is_read_on_two_threads() {
        let mut src = String::from("name: x\n_d: &d [a, b]\nships:\n  s: {ip: x}\nservices:\n");
        let mut n = 0;
        while src.len() < SPLIT_BYTES + 1000 {
            n += 1;
            src.push_str(&format!("  svc-{n}:\n    env: {{J: *d}}\n    instances:\n"));
            for i in 0..10 {
                src.push_str(&format!("      i-{n}-{i}:\n        env:\n"));
                for v in 0..20 {
                    src.push_str(&format!("          V{v}: value-{v}-{i}-{n}\n"));
                }
            }
        }
        src.push_str("audit: [x]\n");
        let (start, column) = split_line(&src).expect("a split");
        assert_eq!(column, 2, "{}", &src[start..start + 20]);
        assert!(src[start..].starts_with("  svc-") && start >= src.len() / 2);
        assert!(same_split(&src, (start, column)));
        assert!(split_line(&src[..SPLIT_BYTES - 1]).is_none());
    }
}
