"""Checks every page of the portal should pass in a real browser, asked of the rendered DOM with JavaScript:
form fields and buttons have accessible names, images have alt text, the page states its language, and on a
phone nothing is wider than the screen (no sideways scrolling)."""

import re

from tests.browser.remote import Remote

# Runs in the page: a list of problems, each a short description with the offending markup.
PAGE_PROBLEMS_JS = r"""
(ignore) => {
  const problems = [];
  const shown = el => !el.closest('[hidden], [aria-hidden="true"], template') && el.getClientRects().length > 0
    && !(ignore && el.closest(ignore));
  const snippet = el => el.outerHTML.replace(/\s+/g, ' ').slice(0, 160);
  const named = el => Boolean(
    (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby') ||
    (el.getAttribute('title') || '').trim());
  if (!document.documentElement.lang) problems.push('<html> has no lang attribute');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type) || !shown(el)) continue;
    if (!(el.labels && el.labels.length) && !named(el)) problems.push('field without a label: ' + snippet(el));
  }
  for (const el of document.querySelectorAll('button, a[href], input[type=submit], input[type=button]')) {
    if (!shown(el)) continue;
    const text = (el.innerText || el.value || '').trim();
    const image = [...el.querySelectorAll('img[alt], svg[aria-label]')]
      .some(i => (i.alt || i.getAttribute('aria-label') || '').trim());
    if (!text && !image && !named(el)) problems.push('control without a name: ' + snippet(el));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt: ' + snippet(img));
  }
  const width = document.documentElement.scrollWidth;
  if (window.innerWidth < 600 && width > window.innerWidth + 1) {
    const wide = [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && shown(el))
      .slice(0, 3).map(snippet);
    problems.push(`page is ${width}px wide on a ${window.innerWidth}px screen: ` + wide.join(' | '));
  }
  return problems;
}
"""

# Problems in markup the product does not write itself (none so far).
IGNORED: list[re.Pattern] = []


def page_problems(page: Remote, *, ignore: str = "") -> list[str]:
    """What is wrong with the page now open; `ignore`: a CSS selector of parts written by others (a payment
    provider's card fields)."""
    found = page.evaluate(PAGE_PROBLEMS_JS, ignore or None)
    return [p for p in found if not any(pattern.search(p) for pattern in IGNORED)]


def assert_page_is_usable(page: Remote, *, ignore: str = "") -> None:
    """Fails with the list of problems found on the page now open."""
    problems = page_problems(page, ignore=ignore)
    assert not problems, f"{page.url}:\n  " + "\n  ".join(problems)
