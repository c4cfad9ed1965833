//! The node tree built straight from YAML events, without serde and its
//! `Spanned` wrappers, which cost three times the parsing itself. The
//! events come from `subset` (the YAML most files are written in) or from
//! the YAML parser serde-saphyr itself drives, with the same options.
//! `Builder` is shared by both.
//!
//! It builds exactly the tree serde-saphyr builds, and gives up (returns
//! None, and the file is parsed again through serde-saphyr) on everything
//! it does not reproduce or that could be an error: syntax errors, tags,
//! merge keys (`<<`), aliases used as keys, duplicate keys, several or
//! explicit documents, an empty file, scalars whose type it does not know
//! for certain, nesting deeper than `GIVE_UP_DEPTH`, and alias expansion or
//! scalar bytes above half their limits. Every error message therefore
//! still comes from one place, and the limits are enforced as before.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::sync::mpsc;

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle, ScanError, Span};

use super::{NO_SPAN, Node, Number, Styles, Value, max_expansion, max_scalar_bytes};

/// Deeper files are left to serde-saphyr, which refuses more than 64 levels.
const GIVE_UP_DEPTH: usize = 48;
/// Aliases inside anchors inside anchors...: serde-saphyr refuses more
/// than 64 levels.
const GIVE_UP_ALIAS_NESTING: usize = 32;

/// A node being built, with what it costs when an alias repeats it: its
/// events (one per scalar, two per collection) and scalar bytes.
pub(super) struct Built {
    node: Node,
    events: usize,
    bytes: usize,
    alias: bool,
    /// Aliases nested in it: 1 for an alias of a node without aliases.
    nesting: usize,
}

struct Frame {
    node: Node,
    anchor: usize,
    map: bool,
    /// Its place among its parent's items (or entries).
    slot: usize,
    /// Where the collection's items (or entries) start in the shared
    /// list of items being built: each collection gets a vector of its
    /// exact size once complete, rather than one grown item by item.
    start: usize,
    /// A mapping's key waiting for its value.
    key: Option<Node>,
    events: usize,
    bytes: usize,
    nesting: usize,
}

/// `build` on the calling thread alone, whatever the size.
pub(super) fn build_serially(src: &str) -> Option<Node> {
    build_from(
        src,
        Parser::new_from_str_with_options(src, parser_options()),
    )
}

/// One parser event with its span, or the parser's error.
type Item<'a> = Result<(Event<'a>, Span), ScanError>;

/// Inputs from which the events are produced on a thread of their own
/// while the tree is built from them: the parser and the tree's
/// construction each take about half of the time, so on two cores a large
/// file's tree is ready in little more than half of it. Below this, a
/// thread costs more than it saves.
pub(super) const PIPELINE_BYTES: usize = 256 * 1024;
/// Events per batch handed from the parser's thread to the builder (about
/// 130 KiB): few enough hand-overs to be free, small enough to stay in
/// cache. Emptied batches go back to be refilled, so the batches' memory
/// is allocated once.
const BATCH: usize = 1024;
/// Full batches the parser may be ahead of the builder.
const BATCHES_AHEAD: usize = 4;

/// The tree of `src`, or None when serde-saphyr must decide (module doc).
pub(super) fn build<'a>(src: &'a str) -> Option<Node> {
    if !worth_a_thread(src) {
        return build_serially(src);
    }
    let parse = |sink: &mut dyn FnMut(Item<'a>) -> bool| {
        for item in Parser::new_from_str_with_options(src, parser_options()) {
            let last = item.is_err();
            if !sink(item) || last {
                return;
            }
        }
    };
    pipelined(parse, |events| build_from(src, events)).unwrap_or_else(|| build_serially(src))
}

/// Whether the events of `src` are worth producing on a thread of their
/// own while the tree is built from them (see `PIPELINE_BYTES`).
fn worth_a_thread(src: &str) -> bool {
    src.len() >= PIPELINE_BYTES && two_cores()
}

/// Whether a second thread can run beside this one.
pub(super) fn two_cores() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Runs `produce` on a thread of its own (`yaml-events`), which hands what
/// it makes to a sink that answers whether more is wanted, and gives it
/// to `consume` here, batch after batch. None when no thread could be
/// made (then nothing was produced).
fn pipelined<T: Send, R>(
    produce: impl FnOnce(&mut dyn FnMut(T) -> bool) + Send,
    consume: impl FnOnce(&mut Batches<T>) -> R,
) -> Option<R> {
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<T>>(BATCHES_AHEAD);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<T>>();
        let hand_over = move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut wanted = true;
            produce(&mut |item| {
                batch.push(item);
                if batch.len() == BATCH {
                    let next = empty_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                    // The consumer gave up (or is done): stop producing.
                    wanted = full_tx.send(std::mem::replace(&mut batch, next)).is_ok();
                }
                wanted
            });
            if wanted {
                let _ = full_tx.send(batch);
            }
        };
        // No thread: the closure, and with it the channel's other ends, is
        // dropped.
        std::thread::Builder::new()
            .name("yaml-events".into())
            .spawn_scoped(scope, hand_over)
            .ok()?;
        Some(consume(&mut Batches {
            full: full_rx,
            empty: empty_tx,
            current: VecDeque::new(),
        }))
    })
}

/// What the producer's thread made, batch after batch; each emptied batch
/// is handed back.
struct Batches<T> {
    full: mpsc::Receiver<Vec<T>>,
    empty: mpsc::Sender<Vec<T>>,
    current: VecDeque<T>,
}

impl<T> Iterator for Batches<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.current.pop_front() {
                return Some(item);
            }
            let done = std::mem::replace(&mut self.current, VecDeque::from(self.full.recv().ok()?));
            // The producer may have finished: then nobody takes it back.
            let _ = self.empty.send(Vec::from(done));
        }
    }
}

/// serde-saphyr's parser options, so both paths see the same events.
pub(super) fn parser_options() -> Options {
    let mut options = Options::default();
    let budget = serde_saphyr::budget::Budget::default();
    options.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    options.flow_nesting_limit = budget.flow_nesting_limit;
    options.emit_comments = false;
    options
}

/// The tree from `src`'s events (see `build`).
fn build_from<'a>(src: &'a str, events: impl Iterator<Item = Item<'a>>) -> Option<Node> {
    let mut builder = Builder::new(src);
    for item in events {
        let (event, span) = item.ok()?;
        builder.push(event, &span)?;
    }
    builder.finish()
}

/// A node event made ready for the builder: scalars resolved and located,
/// collections located; what is left is to place them in the tree.
enum Piece {
    Scalar {
        node: Node,
        anchor: usize,
        /// The scalar's text, for the limits.
        bytes: usize,
    },
    /// A mapping or sequence begins: its node, still empty.
    Start {
        node: Node,
        anchor: usize,
    },
    End {
        map: bool,
    },
    Alias {
        id: usize,
        line: u32,
        column: u32,
    },
}

impl Piece {
    /// The piece of a node event; None for other events and for what
    /// serde-saphyr must build (tags, scalars of a type not known for
    /// certain).
    fn of(src: &Styles<'_>, event: Event<'_>, span: &Span) -> Option<Piece> {
        Some(match event {
            Event::Scalar(value, style, anchor, tag) => {
                if tag.is_some() {
                    return None;
                }
                let bytes = value.len();
                let mut node = scalar(value, style, span)?;
                node.fill_scalar(src);
                Piece::Scalar {
                    node,
                    anchor,
                    bytes,
                }
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if tag.is_some() {
                    return None;
                }
                let (line, column) = location(span);
                let node = Node {
                    value: if matches!(event, Event::MappingStart(..)) {
                        Value::Map(Vec::new())
                    } else {
                        Value::Seq(Vec::new())
                    },
                    line,
                    column,
                    span: byte_span(span)?,
                    plain: false,
                };
                Piece::Start { node, anchor }
            }
            Event::SequenceEnd => Piece::End { map: false },
            Event::MappingEnd => Piece::End { map: true },
            Event::Alias(id) => {
                let (line, column) = location(span);
                Piece::Alias { id, line, column }
            }
            _ => return None,
        })
    }
}

/// Aliases from this number on (`UNRESOLVED + i`) name anchors a part's
/// reader had not seen: its `i`-th unknown name (see `Part`).
pub(super) const UNRESOLVED: usize = usize::MAX / 2;

/// The entries of one block mapping from a given line on, built on
/// another thread (`subset::build`) and spliced into the tree under
/// construction (`Builder::splice`): the entries, what they cost, and what
/// is left to settle, which only the builder of the lines before knows.
pub(super) struct Part {
    entries: Vec<(Node, Node)>,
    /// Where each alias of an unknown name is (by `UNRESOLVED` number):
    /// the places from the part's entries down, and the alias's line and
    /// column; a null stands there for now.
    unresolved: Vec<(Vec<usize>, u32, u32)>,
    /// The part's own anchors, in order (its anchor 1 first).
    anchors: Vec<Option<Built>>,
    /// The counts of the whole part, as `Builder` keeps them.
    events: usize,
    bytes: usize,
    nesting: usize,
    depth: usize,
    replayed: usize,
    total_bytes: usize,
    recorded: usize,
    recorded_bytes: usize,
}

/// The tree under construction, event after event (see `build`).
pub(super) struct Builder<'s> {
    src: Styles<'s>,
    max_events: usize,
    max_bytes: usize,
    max_recorded: usize,
    recorded_bytes: usize,
    anchors: Vec<Option<Built>>,
    stack: Vec<Frame>,
    items: Vec<Node>,
    entries: Vec<(Node, Node)>,
    root: Option<Node>,
    documents: usize,
    replayed: usize,
    total_bytes: usize,
    recorded: usize,
    /// Building a `Part`: aliases of unknown names are left in place.
    part: Option<PartState>,
}

/// What a builder of a `Part` keeps besides the tree.
#[derive(Default)]
struct PartState {
    unresolved: Vec<(Vec<usize>, u32, u32)>,
    depth: usize,
}

impl<'s> Builder<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        let max_events = max_expansion(src.len()) / 2;
        Builder {
            src: Styles::of(src),
            max_events,
            max_bytes: max_scalar_bytes(src.len()) / 2,
            max_recorded: src.len().saturating_mul(2).saturating_add(max_events) / 2,
            recorded_bytes: 0,
            anchors: Vec::new(),
            stack: Vec::new(),
            items: Vec::new(),
            entries: Vec::new(),
            root: None,
            documents: 0,
            replayed: 0,
            total_bytes: 0,
            recorded: 0,
            part: None,
        }
    }

    /// A builder of the entries of a block mapping from a given line on
    /// (see `Part`), as if the mapping's other entries came before.
    pub(super) fn for_part(src: &'s str) -> Self {
        let mut builder = Builder::new(src);
        builder.part = Some(PartState::default());
        let mapping = Node {
            value: Value::Map(Vec::new()),
            line: 0,
            column: 0,
            span: NO_SPAN,
            plain: false,
        };
        // An empty stack always takes a collection.
        let _ = builder.take(Piece::Start {
            node: mapping,
            anchor: 0,
        });
        builder
    }

    /// The part built (see `for_part`); None when its mapping is not the
    /// one open (or a key waits for its value).
    pub(super) fn into_part(mut self) -> Option<Part> {
        let state = self.part.take()?;
        let frame = self.stack.pop()?;
        if !self.stack.is_empty() || frame.key.is_some() {
            return None;
        }
        self.anchors.drain(..self.anchors.len().min(1));
        Some(Part {
            entries: self.entries,
            unresolved: state.unresolved,
            anchors: self.anchors,
            events: frame.events - 1,
            bytes: frame.bytes,
            nesting: frame.nesting,
            depth: state.depth,
            replayed: self.replayed,
            total_bytes: self.total_bytes,
            recorded: self.recorded,
            recorded_bytes: self.recorded_bytes,
        })
    }

    /// Splices a part into the block mapping being built, as if its events
    /// had come here: `targets` are the anchors its unknown names name
    /// here, and its own anchors are numbered from `first_anchor`. None
    /// when the tree is serde-saphyr's to build after all (the limits, a
    /// recursive alias, nesting).
    pub(super) fn splice(
        &mut self,
        part: Part,
        targets: &[usize],
        first_anchor: usize,
    ) -> Option<()> {
        let Part {
            mut entries,
            unresolved,
            anchors,
            mut events,
            mut bytes,
            mut nesting,
            depth,
            replayed,
            total_bytes,
            recorded,
            recorded_bytes,
        } = part;
        if self.stack.len() + depth > GIVE_UP_DEPTH || unresolved.len() != targets.len() {
            return None;
        }
        self.replayed = self.replayed.saturating_add(replayed);
        self.total_bytes = self.total_bytes.saturating_add(total_bytes);
        self.recorded = self.recorded.saturating_add(recorded);
        self.recorded_bytes = self.recorded_bytes.saturating_add(recorded_bytes);
        for (&(ref path, line, column), &id) in unresolved.iter().zip(targets) {
            let built = self.repeat(id, line, column)?;
            events += built.events;
            bytes += built.bytes;
            nesting = nesting.max(built.nesting);
            *place(&mut entries, path)? = built.node;
        }
        if !self.within_limits() {
            return None;
        }
        let frame = self.stack.last_mut()?;
        if !frame.map || frame.key.is_some() {
            return None;
        }
        frame.events += events;
        frame.bytes += bytes;
        frame.nesting = frame.nesting.max(nesting);
        self.entries.append(&mut entries);
        if self.anchors.len() > first_anchor {
            return None;
        }
        self.anchors.resize_with(first_anchor, || None);
        self.anchors.extend(anchors);
        Some(())
    }

    /// Takes the next event; None when the tree is serde-saphyr's to build.
    pub(super) fn push(&mut self, event: Event<'_>, span: &Span) -> Option<()> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Some(()),
            Event::DocumentStart(explicit, version) => {
                self.documents += 1;
                (!explicit && version.is_none() && self.documents == 1).then_some(())
            }
            event => {
                let piece = Piece::of(&self.src, event, span)?;
                self.take(piece)
            }
        }
    }

    /// Takes the next piece of the one document (see `push`).
    fn take(&mut self, piece: Piece) -> Option<()> {
        let built = match piece {
            Piece::Scalar {
                node,
                anchor,
                bytes,
            } => {
                self.total_bytes += bytes;
                let built = Built {
                    node,
                    events: 1,
                    bytes,
                    alias: false,
                    nesting: 0,
                };
                self.record(anchor, &built);
                built
            }
            Piece::Start { node, anchor } => {
                if self.stack.len() >= GIVE_UP_DEPTH {
                    return None;
                }
                let map = matches!(node.value, Value::Map(_));
                let slot = self.next_slot();
                self.stack.push(Frame {
                    node,
                    anchor,
                    map,
                    slot,
                    start: if map {
                        self.entries.len()
                    } else {
                        self.items.len()
                    },
                    key: None,
                    events: 1,
                    bytes: 0,
                    nesting: 0,
                });
                if let Some(part) = &mut self.part {
                    part.depth = part.depth.max(self.stack.len() - 1);
                }
                return Some(());
            }
            Piece::End { map } => {
                let mut frame = self.stack.pop()?;
                if frame.key.is_some() || frame.map != map {
                    return None;
                }
                frame.node.value = if frame.map {
                    if has_duplicate_keys(self.entries.get(frame.start..)?) {
                        return None;
                    }
                    Value::Map(self.entries.split_off(frame.start))
                } else {
                    Value::Seq(self.items.split_off(frame.start))
                };
                let built = Built {
                    node: frame.node,
                    events: frame.events + 1,
                    bytes: frame.bytes,
                    alias: false,
                    nesting: frame.nesting,
                };
                self.record(frame.anchor, &built);
                built
            }
            Piece::Alias { id, line, column } if id >= UNRESOLVED => {
                self.unresolved(id - UNRESOLVED, line, column)?
            }
            Piece::Alias { id, line, column } => self.repeat(id, line, column)?,
        };
        if !self.within_limits() {
            return None;
        }
        match self.stack.last_mut() {
            Some(frame) => {
                frame.events += built.events;
                frame.bytes += built.bytes;
                frame.nesting = frame.nesting.max(built.nesting);
                match (frame.map, frame.key.take()) {
                    (true, Some(key)) => self.entries.push((key, built.node)),
                    (true, None) => {
                        // Keys are strings here; others are serde-saphyr's.
                        if !matches!(built.node.value, Value::Str(_)) || built.alias {
                            return None;
                        }
                        frame.key = Some(built.node);
                    }
                    (false, _) => self.items.push(built.node),
                }
            }
            None => {
                if self.root.is_some() {
                    return None;
                }
                self.root = Some(built.node);
            }
        }
        Some(())
    }

    /// A copy of anchor `id`'s node for an alias at `line` and `column`,
    /// counted against the limits; None for an alias of an anchor still
    /// open (recursive) and past the limits.
    fn repeat(&mut self, id: usize, line: u32, column: u32) -> Option<Built> {
        let target = self.anchors.get(id)?.as_ref()?;
        self.replayed = self.replayed.saturating_add(target.events);
        self.total_bytes = self.total_bytes.saturating_add(target.bytes);
        if self.replayed > self.max_events || target.nesting >= GIVE_UP_ALIAS_NESTING {
            return None;
        }
        let mut node = target.node.clone();
        relocate(&mut node, line, column);
        Some(Built {
            node,
            events: target.events,
            bytes: target.bytes,
            alias: true,
            nesting: target.nesting + 1,
        })
    }

    /// Whether the scalar bytes and what anchors hold are within the
    /// limits (alias expansion is checked as aliases come, `repeat`).
    fn within_limits(&self) -> bool {
        self.total_bytes <= self.max_bytes
            && self.recorded <= self.max_recorded
            && self.recorded_bytes <= self.max_bytes
    }

    /// Where the next node goes among the items (or entries) of the
    /// collection open.
    fn next_slot(&self) -> usize {
        match self.stack.last() {
            Some(f) if f.map => self.entries.len() - f.start,
            Some(f) => self.items.len() - f.start,
            None => 0,
        }
    }

    /// A null standing for the `i`-th alias of a name the part's reader
    /// had not seen, to be replaced when the part is spliced. Inside an
    /// anchored node, the node's copies would need it too: given up.
    fn unresolved(&mut self, i: usize, line: u32, column: u32) -> Option<Built> {
        if self.stack.iter().any(|f| f.anchor != 0) {
            return None;
        }
        let mut path: Vec<usize> = self.stack.iter().skip(1).map(|f| f.slot).collect();
        path.push(self.next_slot());
        let part = self.part.as_mut()?;
        if part.unresolved.len() != i {
            return None;
        }
        part.unresolved.push((path, line, column));
        Some(Built {
            node: Node {
                value: Value::Null,
                line,
                column,
                span: NO_SPAN,
                plain: false,
            },
            events: 0,
            bytes: 0,
            alias: true,
            nesting: 0,
        })
    }

    /// The tree, once every event is in.
    pub(super) fn finish(self) -> Option<Node> {
        // An empty document is null: serde-saphyr words that.
        if !self.stack.is_empty() {
            return None;
        }
        self.root.filter(|r| !r.is_null())
    }

    /// Keeps an anchored node for its aliases, and counts what anchors hold.
    fn record(&mut self, anchor: usize, built: &Built) {
        if anchor == 0 {
            return;
        }
        self.recorded = self.recorded.saturating_add(built.events);
        self.recorded_bytes = self.recorded_bytes.saturating_add(built.bytes);
        if self.anchors.len() <= anchor {
            self.anchors.resize_with(anchor + 1, || None);
        }
        self.anchors[anchor] = Some(Built {
            node: built.node.clone(),
            events: built.events,
            bytes: built.bytes,
            alias: false,
            nesting: built.nesting,
        });
    }
}

/// The node at `path` (see `Part::unresolved`): the value of an entry,
/// then of an entry or an item of it, and so on.
fn place<'n>(entries: &'n mut [(Node, Node)], path: &[usize]) -> Option<&'n mut Node> {
    let (first, rest) = path.split_first()?;
    let mut node = &mut entries.get_mut(*first)?.1;
    for &i in rest {
        node = match &mut node.value {
            Value::Map(entries) => &mut entries.get_mut(i)?.1,
            Value::Seq(items) => items.get_mut(i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A repeated node is located where the alias is, in all its parts (its
/// span stays the definition's, for the text of numbers).
fn relocate(node: &mut Node, line: u32, column: u32) {
    node.line = line;
    node.column = column;
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| relocate(n, line, column)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            relocate(k, line, column);
            relocate(v, line, column);
        }),
        _ => {}
    }
}

fn has_duplicate_keys(entries: &[(Node, Node)]) -> bool {
    if entries.len() <= 16 {
        return entries.iter().enumerate().any(|(i, (k, _))| {
            let k = k.text();
            entries[..i].iter().any(|(o, _)| o.text() == k)
        });
    }
    let mut seen = HashSet::with_capacity(entries.len());
    !entries.iter().all(|(k, _)| seen.insert(k.text()))
}

/// Line and column (1-based), as serde-saphyr reports them.
fn location(span: &Span) -> (u32, u32) {
    (
        u32::try_from(span.start.line()).unwrap_or(u32::MAX),
        u32::try_from(span.start.col() + 1).unwrap_or(u32::MAX),
    )
}

fn byte_span(span: &Span) -> Option<(u32, u32)> {
    let start = span.start.byte_offset()?;
    let end = span.end.byte_offset()?;
    let len = end.checked_sub(start)?;
    Some(
        u32::try_from(start)
            .ok()
            .zip(u32::try_from(len).ok())
            .unwrap_or(NO_SPAN),
    )
}

/// An untagged scalar as serde-saphyr resolves it (strict booleans, YAML
/// 1.2 numbers), for the forms known for certain; None for the others.
fn scalar(value: Cow<'_, str>, style: ScalarStyle, span: &Span) -> Option<Node> {
    let (line, column) = location(span);
    let value = if style != ScalarStyle::Plain {
        Value::Str(value.into_owned())
    } else {
        match resolve_plain(&value)? {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::Bool(b),
            Plain::Number(n) => Value::Number(Box::new(n)),
            Plain::Str => Value::Str(value.into_owned()),
        }
    };
    Some(Node {
        value,
        line,
        column,
        span: byte_span(span)?,
        plain: false,
    })
}

#[derive(Debug, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Number(Number),
    Str,
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
            && self.int == other.int
            && self.float.to_bits() == other.float.to_bits()
    }
}

/// A plain scalar: null, a boolean (`true`/`false` in three cases), a
/// decimal integer without a leading zero, a decimal fraction without
/// exponent, or a string that no number form could read; None for every
/// other form (`0x1F`, `1e3`, `.inf`, `010`, `1_000`, `+1`, `<<`...).
fn resolve_plain(text: &str) -> Option<Plain> {
    let bytes = text.as_bytes();
    // The words below by their first letters: most scalars need no
    // comparison with them.
    if matches!(
        bytes.first(),
        None | Some(b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'<')
    ) {
        match text {
            "" | "~" | "null" | "Null" | "NULL" => return Some(Plain::Null),
            "true" | "True" | "TRUE" => return Some(Plain::Bool(true)),
            "false" | "False" | "FALSE" => return Some(Plain::Bool(false)),
            "<<" => return None,
            _ => {}
        }
    }
    // Parsed scalars carry no padding; anything else is left alone.
    let first = *bytes.first()?;
    let last = *bytes.last()?;
    if matches!(first, b' ' | b'\t' | b'\r' | b'\n') || matches!(last, b' ' | b'\t' | b'\r' | b'\n')
    {
        return None;
    }
    if !matches!(first, b'0'..=b'9' | b'+' | b'-' | b'.') {
        // No number, boolean or null starts otherwise (`inf` and `nan`
        // read as numbers only with a dot in YAML 1.2).
        return Some(Plain::Str);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(digits) && (digits.len() == 1 || !digits.starts_with('0')) {
        let number = if negative {
            let v: i64 = text.parse().ok()?;
            Number {
                text: v.to_string(),
                int: Some(v),
                float: v as f64,
            }
        } else {
            let v: u64 = text.parse().ok()?;
            Number {
                text: v.to_string(),
                int: i64::try_from(v).ok(),
                float: v as f64,
            }
        };
        return Some(Plain::Number(number));
    }
    if let Some((whole, fraction)) = digits.split_once('.')
        && all_digits(whole)
        && all_digits(fraction)
    {
        let v: f64 = text.parse().ok().filter(|v: &f64| v.is_finite())?;
        return Some(Plain::Number(Number {
            text: v.to_string(),
            int: None,
            float: v,
        }));
    }
    // `.inf`, `+.nan` and other forms with a sign or a leading dot.
    if digits.starts_with('.') || text.starts_with('+') {
        return None;
    }
    // Strings for certain: a character no number form has, or digits
    // with several dots (an address, a version).
    let numeric_char = |b: u8| {
        b.is_ascii_hexdigit()
            || matches!(
                b,
                b'x' | b'X' | b'o' | b'O' | b'+' | b'-' | b'.' | b'_' | b':'
            )
    };
    if !bytes.iter().all(|&b| numeric_char(b))
        || (bytes.iter().all(|&b| b.is_ascii_digit() || b == b'.')
            && bytes.iter().filter(|&&b| b == b'.').count() >= 2)
    {
        return Some(Plain::Str);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_only_when_certain() {
        let num = |text: &str, int: Option<i64>, float: f64| {
            Some(Plain::Number(Number {
                text: text.into(),
                int,
                float,
            }))
        };
        assert_eq!(resolve_plain("~"), Some(Plain::Null));
        assert_eq!(resolve_plain("True"), Some(Plain::Bool(true)));
        assert_eq!(resolve_plain("yes"), Some(Plain::Str));
        assert_eq!(resolve_plain("nan"), Some(Plain::Str));
        assert_eq!(resolve_plain("42"), num("42", Some(42), 42.0));
        assert_eq!(resolve_plain("-7"), num("-7", Some(-7), -7.0));
        assert_eq!(resolve_plain("0"), num("0", Some(0), 0.0));
        assert_eq!(
            resolve_plain("18446744073709551615"),
            num("18446744073709551615", None, u64::MAX as f64)
        );
        assert_eq!(resolve_plain("1.20"), num("1.2", None, 1.2));
        assert_eq!(resolve_plain("10.213.1.5"), Some(Plain::Str));
        assert_eq!(resolve_plain("-Xmx512m"), Some(Plain::Str));
        assert_eq!(resolve_plain("8080:80/udp"), Some(Plain::Str));
        for unsure in [
            "010",
            "0x1F",
            "0o17",
            "1e3",
            ".inf",
            "-.inf",
            ".nan",
            "+1",
            "1_000",
            "1.",
            ".5",
            "99999999999999999999",
            "<<",
            "1:20",
            "0X1F",
        ] {
            assert_eq!(resolve_plain(unsure), None, "{unsure}");
        }
    }
}
