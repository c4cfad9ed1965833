//! Plain lines: the header once, then the whole row again at each state
//! change, then the summary. For logs, pipes and CI. Written through an
//! `anstream` stream, which drops the colours when the output is not a
//! terminal or `NO_COLOR` is set.

use std::io::{self, Write};

use super::Renderer;
use super::table::{Table, summary_lines};
use crate::events::{Event, State};

#[derive(Debug)]
pub struct PlainRenderer<W: Write> {
    out: W,
    table: Table,
}

impl<W: Write> PlainRenderer<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            table: Table::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write + Send> Renderer for PlainRenderer<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Play { rows, .. } => {
                self.table = Table::new(rows);
                writeln!(self.out, "{}", self.table.header())?;
            }
            Event::Instance(e) => {
                // Every row starts as `waiting`: saying so again for each
                // row is noise, not a change.
                let unchanged = e.state == State::Waiting && e.container.is_none();
                if let Some(i) = self
                    .table
                    .update(&e.instance, e.container.as_deref(), &e.state)
                    && !unchanged
                {
                    writeln!(self.out, "{}", self.table.line(i))?;
                }
            }
            Event::Note { message } => writeln!(self.out, "{message}")?,
            Event::Summary(summary) => {
                for line in summary_lines(summary) {
                    writeln!(self.out, "{line}")?;
                }
            }
        }
        self.out.flush()
    }
}
