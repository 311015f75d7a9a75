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
    // Inside a link or a code block, a web address is text: it is already a link, or code.
    let mut plain_depth = 0usize;
    let events = Parser::new_ext(src, options).flat_map(|event| {
        match &event {
            Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::CodeBlock(_)) => {
                plain_depth += 1;
            }
            Event::End(TagEnd::Link | TagEnd::Image | TagEnd::CodeBlock) => {
                plain_depth = plain_depth.saturating_sub(1);
            }
            Event::Text(text) if plain_depth == 0 => return linkify(text),
            _ => {}
        }
        vec![event]
    });
    let events = events.map(|event| match event {
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

/// A web address typed as it is ("see https://acme.test/pricing.") becomes a link, as
/// people expect from a notes field; CommonMark links only `<https://…>`. The address ends
/// at a space or at trailing punctuation that more likely ends the sentence.
fn linkify(text: &str) -> Vec<Event<'static>> {
    let mut events = Vec::new();
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let url = tail[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
        let scheme_only = url.ends_with("//");
        if start > 0 {
            events.push(Event::Text(rest[..start].to_string().into()));
        }
        if scheme_only {
            events.push(Event::Text(url.to_string().into()));
        } else {
            let link = Tag::Link {
                link_type: pulldown_cmark::LinkType::Autolink,
                dest_url: url.to_string().into(),
                title: "".into(),
                id: "".into(),
            };
            events.push(Event::Start(link));
            events.push(Event::Text(url.to_string().into()));
            events.push(Event::End(TagEnd::Link));
        }
        rest = &tail[url.len()..];
    }
    if !rest.is_empty() || events.is_empty() {
        events.push(Event::Text(rest.to_string().into()));
    }
    events
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
    fn bare_web_addresses_become_links_but_not_in_code_or_links() {
        let html = render("see https://acme.test/pricing?a=1&b=2. Thanks");
        assert!(
            html.contains(r#"see <a href="https://acme.test/pricing?a=1&amp;b=2" target="_blank" rel="noopener noreferrer nofollow">https://acme.test/pricing?a=1&amp;b=2</a>. Thanks"#),
            "{html}"
        );
        let code = render("`https://acme.test` and\n\n```\nhttps://acme.test\n```");
        assert!(!code.contains("<a "), "code stays code: {code}");
        let linked = render("[pricing](https://acme.test/p) https:// alone");
        assert_eq!(linked.matches("<a ").count(), 1, "{linked}");
        let hostile = render("http://x.test/\"onmouseover=\"alert(1)");
        assert!(
            hostile.contains(r#"href="http://x.test/%22onmouseover=%22alert(1""#),
            "a quote cannot end the address's attribute: {hostile}"
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
