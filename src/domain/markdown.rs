//! Notes written in Markdown (activity bodies, task notes), shown as safe HTML.
//!
//! The text is stored as typed; only its display is rendered. Two layers keep it safe:
//! raw HTML in the Markdown is turned into text before rendering (so `<b>` shows as typed),
//! and the rendered HTML then goes through ammonia with a short allow-list, which drops
//! scripts, frames, event handlers, `style` and any link that is not http(s), mailto or
//! tel — so nothing a note contains can run, restyle the page or break the CSP.
use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Elements a note may produce; everything else is removed (its text kept).
const TAGS: &[&str] = &[
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .add_tag_attributes("a", ["href", "title"])
        .add_tag_attributes("ol", ["start"])
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        // A relative link (`/deals/12`) points into Cairn itself, which is useful in a note.
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        // A link in a note leads elsewhere; a new tab keeps the record the user was reading.
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true);
    b
});

/// The HTML for `src`, safe to put in a page as it is (`|safe` in a template).
pub fn render(src: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(src, options).map(|event| match event {
        // Raw HTML is shown as the text that was typed, never interpreted.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // A line break typed in the text box is a line break on the page, as people expect
        // from a notes field (CommonMark would join the lines).
        Event::SoftBreak => Event::HardBreak,
        // An image would load from anywhere (a tracking pixel) and the CSP refuses it
        // anyway: show it as a link to the image instead.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut html = String::with_capacity(src.len() + src.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::{CLEANER, render};

    #[test]
    fn lists_links_emphasis_and_code_render() {
        let html = render(
            "- one\n- **two** and *three*\n\n1. first\n\n`x < y` and [site](https://example.com)",
        );
        assert!(
            html.contains("<ul>\n<li>one</li>"),
            "bullet list missing: {html}"
        );
        assert!(
            html.contains("<strong>two</strong>"),
            "bold missing: {html}"
        );
        assert!(html.contains("<em>three</em>"), "italics missing: {html}");
        assert!(html.contains("<ol>"), "numbered list missing: {html}");
        assert!(
            html.contains("<code>x &lt; y</code>"),
            "code missing: {html}"
        );
        assert!(
            html.contains(r#"<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">site</a>"#),
            "link missing or unsafe: {html}"
        );
    }

    #[test]
    fn fenced_code_keeps_its_text() {
        let html = render("```\n<script>alert(1)</script>\n```");
        assert!(
            html.contains("<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn raw_html_shows_as_typed() {
        let html = render("<script>alert(1)</script>\n\nhi <b onmouseover=\"x()\">there</b>");
        assert!(!html.contains("<script"), "a script survived: {html}");
        assert!(!html.contains("<b "), "raw markup was interpreted: {html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "the typed text was lost: {html}"
        );
    }

    #[test]
    fn iframes_and_event_handlers_are_inert() {
        for src in [
            "<iframe src=\"https://evil.test\"></iframe>",
            "<img src=x onerror=alert(1)>",
            "text <img src=x onerror=\"alert(1)\"> more",
            "<div style=\"position:fixed\">x</div>",
        ] {
            let html = render(src);
            for bad in ["<iframe", "<img", "<div"] {
                assert!(!html.contains(bad), "{bad} survived {src:?}: {html}");
            }
        }
    }

    #[test]
    fn the_sanitiser_alone_drops_what_markdown_could_never_produce() {
        // Defence in depth: were raw HTML ever let through, this is what would stop it.
        let html = CLEANER
            .clean("<p style=\"color:red\" onclick=\"x()\">a</p><script>b()</script><iframe></iframe><a href=\"data:text/html,x\">c</a>")
            .to_string();
        assert_eq!(
            html,
            "<p>a</p><a target=\"_blank\" rel=\"noopener noreferrer nofollow\">c</a>"
        );
    }

    #[test]
    fn dangerous_links_lose_their_target() {
        for src in [
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "<javascript:alert(1)>",
            "[click](vbscript:msgbox)",
        ] {
            let html = render(src);
            let lower = html.to_lowercase();
            assert!(
                !lower.contains("href=\"javascript"),
                "{src:?} kept a script link: {html}"
            );
            assert!(
                !lower.contains("href=\"data"),
                "{src:?} kept a data link: {html}"
            );
            assert!(
                !lower.contains("href=\"vbscript"),
                "{src:?} kept a vbscript link: {html}"
            );
        }
    }

    #[test]
    fn images_become_links() {
        let html = render("![logo](https://tracker.test/p.gif)");
        assert!(!html.contains("<img"), "an image would load: {html}");
        assert!(
            html.contains(r#"href="https://tracker.test/p.gif""#),
            "{html}"
        );
        assert!(
            html.contains(">logo</a>"),
            "the alt text is the link text: {html}"
        );
    }

    #[test]
    fn typed_line_breaks_are_kept() {
        assert_eq!(
            render("line one\nline two"),
            "<p>line one<br>\nline two</p>\n"
        );
    }
}
