"""The explorer on a phone and for every reader: a touch-screen browser context, touch gestures and the
accessibility checks (axe-core, pinned in package.json, injected into the page). Shared by
tests/browser/test_phone.py and scripts that look at the app the way a student with a phone does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import browser as bs

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AXE = bs.REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = ("serious", "critical")


def phone_context(browser: Any, **options: Any) -> Any:
    """A 390×844 touch screen, as Chromium emulates a phone (touch events, no hover, mobile viewport)."""
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3, **options)


def axe_ready() -> bool:
    return AXE.is_file()


def axe_violations(page: Any, impacts: tuple[str, ...] = SERIOUS) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of the page as it is now, of the given impacts:
    [{id, impact, help, nodes: [html, …]}]."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.html.slice(0, 160) + '  ' + (n.failureSummary || '').slice(0, 200))}));
        }""",
        AXE_TAGS,
    )
    return [v for v in found if v["impact"] in impacts]


def describe(violations: list[dict], nodes: int = 3) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']} ({len(v['nodes'])}): {v['help']}\n    " + "\n    ".join(v["nodes"][:nodes])
        for v in violations
    )


WIDER_JS = """
() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const e of document.querySelectorAll('[data-testid="stMain"] *')) {
        const box = e.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) continue;
        const own = getComputedStyle(e);
        if (own.visibility === 'hidden' || own.opacity === '0') continue;  // not seen (a select's typing box)
        if (own.clip !== 'auto' || own.clipPath !== 'none') continue;  // visually hidden, for screen readers
        const tiny = (p) => { const b = p.getBoundingClientRect(); return b.width <= 2 || b.height <= 2; };
        let hidden = false;  // inside a 1-px box that hides its overflow: visually hidden (a slider's input)
        for (let p = e.parentElement; p && !p.matches('[data-testid="stMain"]'); p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible' && tiny(p)) { hidden = true; break; }
        }
        if (hidden) continue;
        if (box.right > width + 1 || box.left < -1) {
            // only the outermost: its children are wide because of it
            if (wide.some(w => w.contains(e))) continue;
            // content that scrolls sideways inside its own box (a wide table in a scroller that fits) can be
            // reached; content that a box cuts off (overflow hidden or clip) cannot, and counts
            let scrolled = false;
            for (let p = e.parentElement; p && !p.matches('[data-testid="stMain"]'); p = p.parentElement) {
                const style = getComputedStyle(p);
                const pb = p.getBoundingClientRect();
                if (!['auto', 'scroll'].includes(style.overflowX)) continue;
                if (pb.right <= width + 1 && pb.left >= -1) { scrolled = true; break; }
            }
            if (!scrolled) wide.push(e);
        }
    }
    return {width, scrollWidth: document.documentElement.scrollWidth,
            main: document.querySelector('[data-testid="stMain"]')?.scrollWidth,
            wide: wide.slice(0, 10).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`
                + ` ${e.getAttribute('aria-label') || e.textContent.slice(0, 40)}`
                + ` [${e.getAttribute('data-testid') || ''}] ${Math.round(e.getBoundingClientRect().left)}..`
                + `${Math.round(e.getBoundingClientRect().right)}`)};
}
"""


def wider_than_viewport(page: Any) -> dict:
    """The elements of the main column that reach past the viewport's sides (outermost ones only; cut off by a
    box or not, except inside a box that scrolls sideways and fits), and the page's own scroll width: a phone
    must never scroll sideways, nor hide what does not fit."""
    return page.evaluate(WIDER_JS)


SMALL_TARGETS_JS = """
() => {
    const tiny = (p) => { const b = p.getBoundingClientRect(); return b.width <= 2 || b.height <= 2; };
    const out = [];
    const kinds = 'button, a[href], input:not([type=hidden]), [role=button], select, textarea, .modebar-btn';
    for (const e of document.querySelector('[data-testid="stMain"]').querySelectorAll(kinds)) {
        const b = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        if (b.width === 0 || b.height === 0 || s.visibility === 'hidden' || s.opacity === '0') continue;
        let hidden = false;  // visually hidden (a slider's own input): the visible thumb is the target
        for (let p = e.parentElement; p && !p.matches('[data-testid="stMain"]'); p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible' && tiny(p)) { hidden = true; break; }
        }
        if (hidden) continue;
        // a box's own parts count by the box: a number box's field is as tall as its container
        const box = e.closest('[data-testid="stNumberInputContainer"], [data-baseweb="select"]') || e;
        const w = Math.max(b.width, box.getBoundingClientRect().width);
        const h = Math.max(b.height, box.getBoundingClientRect().height);
        if (w < 44 || h < 44) {
            out.push(`${e.tagName.toLowerCase()} ${e.getAttribute('data-testid') || e.getAttribute('aria-label')
                || e.getAttribute('data-title') || ''} ${Math.round(w)}×${Math.round(h)}`);
        }
    }
    return [...new Set(out)];
}
"""


CUT_TEXT_JS = """
() => [...document.querySelector('[data-testid="stMain"]').querySelectorAll('*')]
    .filter(e => {
        const s = getComputedStyle(e);
        return s.textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0
            && e.textContent.trim() !== '';
    })
    .map(e => `"${e.textContent.trim().slice(0, 40)}" (${e.clientWidth} of ${e.scrollWidth} px)`)
"""


def cut_text(page: Any) -> list[str]:
    """Texts of the main column cut with "…" (a label that does not fit its box), e.g. "Send to the sl…"."""
    return page.evaluate(CUT_TEXT_JS)


def small_targets(page: Any) -> list[str]:
    """The controls of the main column a finger gets less than 44 × 44 px of (WCAG 2.5.5's size)."""
    return page.evaluate(SMALL_TARGETS_JS)


def swipe(page: Any, cdp: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    """One finger from `start` to `end` (viewport pixels) through real touch events (CDP), then lifted."""
    (x0, y0), (x1, y1) = start, end
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]})
    for k in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def main_scroll(page: Any) -> float:
    """How far the app's main column is scrolled (Streamlit scrolls it, not the window)."""
    return float(
        page.evaluate(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                return Math.max(m ? m.scrollTop : 0, document.scrollingElement.scrollTop); }"""
        )
    )


def look(page: Any, folder: Path, name: str, whole: bool = True) -> None:
    """A screenshot: the whole page, or (whole=False) what the screen shows now."""
    bs.screenshot(page, folder / f"{name}.png", whole=whole)
