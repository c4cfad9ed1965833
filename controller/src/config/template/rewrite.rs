//! Source rewriting of a template before minijinja compiles it, for the
//! Jinja2 idioms the engine cannot express through values alone:
//!
//! - `lhs % rhs` becomes `__maestro_py_mod(lhs, rhs)`, so that
//!   `'%02d' % i` formats as in Python (minijinja's `%` is numeric only);
//!   numbers still get Python's modulo.
//! - `lhs ~ rhs` becomes `__maestro_py_concat(lhs, rhs)`, joining the
//!   two as Python's `str()` shows them (`1e+20`, `['a']`).
//! - a list literal `[...]` becomes `__maestro_py_list([...])`, a list
//!   object with Python's mutating methods (`append`, `extend`, ...), which
//!   is how Jinja2 files accumulate values (`{% set l = [] %}` then
//!   `{% set _ = l.append(x) %}`); minijinja's own lists are immutable.
//! - a dict literal `{k: v}` becomes `__maestro_py_dict((k, v))`, likewise
//!   (`d.update(...)`, `d.setdefault(...)`), with its keys in the order
//!   written, as Python's dicts keep them.
//!
//! The template is parsed with minijinja's own parser, so strings, comments
//! and raw blocks are never touched, and only value expressions are
//! rewritten (assignment targets such as `for a, b in` stay as written).
//! Rewrites only insert text or replace a one-byte token (`%`, `~`, `:`,
//! a brace) on the same line, so line numbers in error messages stay right. A template that
//! does not parse is returned unchanged: compiling it then reports the
//! syntax error as usual.

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::machinery::{Span, parse};
use minijinja::syntax::SyntaxConfig;

pub const PY_MOD: &str = "__maestro_py_mod";
pub const PY_LIST: &str = "__maestro_py_list";
pub const PY_DICT: &str = "__maestro_py_dict";
pub const PY_CONCAT: &str = "__maestro_py_concat";

/// One edit at a byte offset of the original text.
#[derive(Debug)]
enum Edit {
    /// Inserts `__fn(` before an expression.
    Open(usize, &'static str),
    /// Inserts `)` after an expression.
    Close(usize),
    /// Replaces the one-byte token at this offset (an operator, a `:` or
    /// a brace) with the text.
    Replace(usize, &'static str),
}

impl Edit {
    fn offset(&self) -> usize {
        match self {
            Edit::Open(o, _) | Edit::Close(o) | Edit::Replace(o, _) => *o,
        }
    }

    /// At one offset: a `)` ends an expression that comes before the one a
    /// `__fn(` starts, and both are inserted before the token there, which a
    /// replacement consumes (a map literal's `{` can start an operand).
    /// Opening ones at one offset keep the order they were made in, outer
    /// expression first (the walker records a node before its children).
    fn order(&self) -> u8 {
        match self {
            Edit::Close(_) => 0,
            Edit::Open(..) => 1,
            Edit::Replace(..) => 2,
        }
    }
}

/// The template text with the rewrites applied (unchanged when there is
/// nothing to rewrite or the text does not parse).
pub fn rewrite(source: &str, name: &str) -> String {
    if !source.contains(['%', '[', '{', '~']) {
        return source.to_string();
    }
    let Ok(tree) = parse(source, name, SyntaxConfig::default()) else {
        return source.to_string();
    };
    let mut w = Walker {
        src: source,
        edits: Vec::new(),
    };
    w.stmt(&tree);
    if w.edits.is_empty() {
        return source.to_string();
    }
    w.edits.sort_by_key(|e| (e.offset(), e.order()));
    let mut out = String::with_capacity(source.len() + w.edits.len() * 20);
    let mut at = 0;
    for e in &w.edits {
        let o = e.offset();
        // Two replacements of one token cannot happen; if they did, the
        // template is better compiled as written than garbled.
        let Some(text) = source.get(at..o) else {
            return source.to_string();
        };
        out.push_str(text);
        at = o;
        match e {
            Edit::Open(_, f) => {
                out.push_str(f);
                out.push('(');
            }
            Edit::Close(_) => out.push(')'),
            Edit::Replace(_, text) => {
                out.push_str(text);
                at = o + 1;
            }
        }
    }
    out.push_str(&source[at..]);
    out
}

struct Walker<'s> {
    src: &'s str,
    edits: Vec<Edit>,
}

impl Walker<'_> {
    fn body(&mut self, stmts: &[Stmt<'_>]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>) {
        match s {
            Stmt::Template(t) => self.body(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::ForLoop(f) => {
                self.expr(&f.iter);
                if let Some(e) = &f.filter_expr {
                    self.expr(e);
                }
                self.body(&f.body);
                self.body(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr);
                self.body(&i.true_body);
                self.body(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value);
                }
                self.body(&w.body);
            }
            Stmt::Set(s) => self.expr(&s.expr),
            Stmt::SetBlock(s) => {
                if let Some(f) = &s.filter {
                    self.expr(f);
                }
                self.body(&s.body);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.body(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.body(&f.body);
            }
            Stmt::Block(b) => self.body(&b.body),
            Stmt::Import(i) => self.expr(&i.expr),
            Stmt::FromImport(i) => self.expr(&i.expr),
            Stmt::Extends(e) => self.expr(&e.name),
            Stmt::Include(i) => self.expr(&i.name),
            Stmt::Macro(m) => {
                for d in &m.defaults {
                    self.expr(d);
                }
                self.body(&m.body);
            }
            Stmt::CallBlock(c) => {
                self.call(&c.call);
                for d in &c.macro_decl.defaults {
                    self.expr(d);
                }
                self.body(&c.macro_decl.body);
            }
            Stmt::Do(d) => self.call(&d.call),
            // Raw text, and loop controls (not enabled here).
            _ => {}
        }
    }

    fn call(&mut self, c: &ast::Call<'_>) {
        self.expr(&c.expr);
        self.args(&c.args);
    }

    fn args(&mut self, args: &[CallArg<'_>]) {
        for a in args {
            match a {
                CallArg::Pos(e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => self.expr(e),
                CallArg::Kwarg(_, e) => self.expr(e),
            }
        }
    }

    fn expr(&mut self, e: &Expr<'_>) {
        match e {
            Expr::Var(_) | Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr);
                for p in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(p);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => {
                match b.op {
                    ast::BinOpKind::Rem => self.binop(b.span(), &b.left, &b.right, '%', PY_MOD),
                    ast::BinOpKind::Concat => {
                        self.binop(b.span(), &b.left, &b.right, '~', PY_CONCAT)
                    }
                    _ => {}
                }
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr);
                for op in &c.ops {
                    self.expr(&op.expr);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                self.expr(&i.true_expr);
                if let Some(f) = &i.false_expr {
                    self.expr(f);
                }
            }
            Expr::Filter(f) => {
                if let Some(e) = &f.expr {
                    self.expr(e);
                }
                self.args(&f.args);
            }
            Expr::Test(t) => {
                self.expr(&t.expr);
                self.args(&t.args);
            }
            Expr::GetAttr(g) => self.expr(&g.expr),
            Expr::GetItem(g) => {
                self.expr(&g.expr);
                self.expr(&g.subscript_expr);
            }
            Expr::Call(c) => self.call(c),
            Expr::List(l) => {
                self.wrap(l.span(), b'[', b']', PY_LIST);
                for i in &l.items {
                    self.expr(i);
                }
            }
            Expr::Tuple(t) => {
                for i in &t.items {
                    self.expr(i);
                }
            }
            Expr::Map(m) => {
                self.map(m);
                for e in m.keys.iter().chain(m.values.iter()) {
                    self.expr(e);
                }
            }
        }
    }

    /// Wraps a literal in a call, only if its span is the bracketed
    /// literal itself (the parser also builds lists for other things).
    fn wrap(&mut self, span: Span, open: u8, close: u8, f: &'static str) {
        let (start, end) = (span.start_offset as usize, span.end_offset as usize);
        let b = self.src.as_bytes();
        if end > start && b.get(start) == Some(&open) && b.get(end - 1) == Some(&close) {
            self.edits.push(Edit::Open(start, f));
            self.edits.push(Edit::Close(end));
        }
    }

    /// `{k: v, ...}` becomes `__maestro_py_dict((k, v), ...)`: the pairs in
    /// the order written (minijinja's own maps sort their keys).
    fn map(&mut self, m: &ast::Spanned<ast::Map<'_>>) {
        let span = m.span();
        let (start, end) = (span.start_offset as usize, span.end_offset as usize);
        let b = self.src.as_bytes();
        if end <= start || b.get(start) != Some(&b'{') || b.get(end - 1) != Some(&b'}') {
            return;
        }
        let mut edits = vec![
            Edit::Replace(start, "__maestro_py_dict("),
            Edit::Replace(end - 1, ")"),
        ];
        for (k, v) in m.keys.iter().zip(m.values.iter()) {
            let (from, to) = (k.span().end_offset as usize, first_offset(v));
            let Some(colon) = self.src.get(from..to).and_then(|gap| gap.find(':')) else {
                return;
            };
            edits.push(Edit::Open(first_offset(k), ""));
            edits.push(Edit::Replace(from + colon, ","));
            edits.push(Edit::Close(v.span().end_offset as usize));
        }
        self.edits.extend(edits);
    }

    /// `left OP right`, spanning `whole`, becomes `f(left, right)`: the
    /// operator is the first `op` between the operands (only whitespace and
    /// parentheses can be there).
    fn binop(&mut self, whole: Span, left: &Expr<'_>, right: &Expr<'_>, op: char, f: &'static str) {
        let (from, to) = (left.span().end_offset as usize, first_offset(right));
        let Some(gap) = self.src.get(from..to) else {
            return;
        };
        let Some(at) = gap.find(op) else {
            return;
        };
        if !gap
            .chars()
            .all(|c| c == op || c == '(' || c == ')' || c.is_whitespace())
        {
            return;
        }
        let start = (whole.start_offset as usize).min(first_offset(left));
        self.edits.push(Edit::Open(start, f));
        self.edits.push(Edit::Replace(from + at, ","));
        self.edits.push(Edit::Close(whole.end_offset as usize));
    }
}

/// Where an expression's text starts: postfix nodes (filters, tests,
/// attributes, calls) have spans that start at their operator, not at the
/// expression they apply to.
fn first_offset(e: &Expr<'_>) -> usize {
    let inner = match e {
        Expr::Filter(f) => f.expr.as_ref(),
        Expr::Test(t) => Some(&t.expr),
        Expr::GetAttr(g) => Some(&g.expr),
        Expr::GetItem(g) => Some(&g.expr),
        Expr::Call(c) => Some(&c.expr),
        Expr::Slice(s) => Some(&s.expr),
        Expr::BinOp(b) => Some(&b.left),
        Expr::Compare(c) => Some(&c.expr),
        Expr::IfExpr(i) => Some(&i.true_expr),
        _ => None,
    };
    let own = e.span().start_offset as usize;
    inner.map_or(own, |i| own.min(first_offset(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulo_becomes_a_call() {
        assert_eq!(
            rewrite("a{{ '%02d' % i }}b", "t"),
            "a{{ __maestro_py_mod('%02d' , i) }}b"
        );
        assert_eq!(
            rewrite("{{ '%s-%s' % (a, b) }}", "t"),
            "{{ __maestro_py_mod('%s-%s' , (a, b)) }}"
        );
        // Left-associative chains and parenthesised operands.
        assert_eq!(
            rewrite("{{ 7 % 4 % 2 }}", "t"),
            "{{ __maestro_py_mod(__maestro_py_mod(7 , 4) , 2) }}"
        );
        assert_eq!(
            rewrite("{{ (a) % (b % c) }}", "t"),
            "{{ __maestro_py_mod((a) , (__maestro_py_mod(b , c))) }}"
        );
        // Filters bind tighter than `%`, as in Jinja2.
        assert_eq!(
            rewrite("{{ '%s' % x|upper }}", "t"),
            "{{ __maestro_py_mod('%s' , x|upper) }}"
        );
        assert_eq!(
            rewrite("{{ 1 + '%d' % 3 * 2 }}", "t"),
            "{{ 1 + __maestro_py_mod('%d' , 3) * 2 }}"
        );
    }

    #[test]
    fn concatenation_becomes_a_call() {
        assert_eq!(
            rewrite("{{ 'a' ~ x ~ 1 }}", "t"),
            "{{ __maestro_py_concat(__maestro_py_concat('a' , x) , 1) }}"
        );
        // Operators starting at one offset nest outer first.
        assert_eq!(
            rewrite("{{ '%s' % x ~ 'y' }}", "t"),
            "{{ __maestro_py_concat(__maestro_py_mod('%s' , x) , 'y') }}"
        );
    }

    #[test]
    fn list_literals_become_lists_with_methods() {
        assert_eq!(
            rewrite("{% set l = [] %}{% set m = [1, [2]] %}", "t"),
            "{% set l = __maestro_py_list([]) %}{% set m = __maestro_py_list([1, __maestro_py_list([2])]) %}"
        );
        assert_eq!(
            rewrite("{% with d = {'k': [1], 'a' ~ x: (2)} %}{% endwith %}", "t"),
            "{% with d = __maestro_py_dict(('k', __maestro_py_list([1])), \
             (__maestro_py_concat('a' , x), (2))) %}{% endwith %}"
        );
        assert_eq!(rewrite("{{ {} }}", "t"), "{{ __maestro_py_dict() }}");
        // A map literal as the left operand: both start at its `{`.
        assert_eq!(
            rewrite("{{ {'a': 1} ~ 'x' }}", "t"),
            "{{ __maestro_py_concat(__maestro_py_dict(('a', 1)) , 'x') }}"
        );
    }

    #[test]
    fn text_strings_comments_and_targets_are_left_alone() {
        for s in [
            "100% [sure] {# 5 % 2 [x] #}",
            "{{ '5 % 2 [x]' }}",
            "{% for a, b in x %}{% endfor %}",
            "{% set a, b = x %}",
            "{% raw %}{{ 5 % 2 }}{% endraw %}",
            "{{ x[0] }}{{ x[1:2] }}",
            // Does not parse: left for the compiler to report.
            "{{ [ % }}",
        ] {
            assert_eq!(rewrite(s, "t"), s);
        }
    }

    #[test]
    fn lines_are_preserved() {
        let src = "a\n{{ '%d' %\n  i }}\n{% set l = [\n1] %}\n";
        let out = rewrite(src, "t");
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.contains(PY_MOD) && out.contains(PY_LIST), "{out}");
    }
}
