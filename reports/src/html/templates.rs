//! The report's templates (the files in `templates/`, built into the binary), parsed once, and the
//! escape every text they show goes through, so nothing a target sent reaches a page raw.

use std::{io, sync::OnceLock};

use tera::Tera;

/// The escape of every text a page shows: HTML's (`&`, `<`, `>`, quotes), and every control
/// character but tab, line feed and carriage return (ESC, NUL, DEL, the C1 range) written visibly as
/// `\u{1b}`, so nothing from the target reaches a page raw (an ESC in an agent name, a NUL in a reason).
fn escape_visibly(input: &str, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rest = input;
    while let Some(at) = rest.find(|c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        tera::escape_html(&rest[..at], out)?;
        let c = rest[at..].chars().next().expect("found a character there");
        write!(out, "\\u{{{:x}}}", u32::from(c))?;
        rest = &rest[at + c.len_utf8()..];
    }
    tera::escape_html(rest, out)
}

/// The report's templates, parsed once, escaping with [`escape_visibly`].
pub(super) fn parsed() -> &'static Tera {
    static TEMPLATES: OnceLock<Tera> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut tera = Tera::new();
        tera.add_raw_templates([
            ("base.html", include_str!("templates/base.html")),
            ("index.html", include_str!("templates/index.html")),
            ("case.html", include_str!("templates/case.html")),
            ("unfinished.html", include_str!("templates/unfinished.html")),
            ("filter.js", include_str!("templates/filter.js")),
        ])
        .expect("the report templates are valid");
        tera.set_escape_fn(escape_visibly);
        tera
    })
}
