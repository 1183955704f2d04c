"""Runs a portal page script (static/portal/*.js) in Node against a small stand-in of the page: the elements it
reads by id, timers run on demand, and the browser objects it uses (location, fetch, WebSocket, Stripe) as the
test defines them. For a script's own logic; tests/browser/ runs the pages in a real browser."""

import json
import shutil
import subprocess
from pathlib import Path

from tests.needs import missing

STATIC = Path(__file__).resolve().parents[2] / "static" / "portal"

_PAGE = r"""
const vm = require("vm");
const fs = require("fs");
const elements = {};
function element(id, props) {
  const node = {id, hidden: false, className: "", dataset: {}, attributes: {}, childNodes: [], listeners: {},
    disabled: false, _text: "",
    get textContent() { return this._text + this.childNodes.map(c => c.textContent).join(""); },
    set textContent(value) { this._text = String(value); this.childNodes = []; },
    getAttribute(name) { return name in this.attributes ? this.attributes[name] : null; },
    appendChild(child) { this.childNodes.push(child); return child; },
    addEventListener(name, handler) { (this.listeners[name] = this.listeners[name] || []).push(handler); },
    querySelector(selector) { return (this.selectors || {})[selector] || null; },
  };
  Object.assign(node, props || {});
  if (node.attributes.href !== undefined) node.href = node.attributes.href;
  if (id) elements[id] = node;
  return node;
}
const timers = [];
const page = {
  element, elements, timers,
  replaced: null, assigned: null, sockets: [],
  runTimers(rounds) {
    for (let i = 0; i < (rounds || 1); i++) timers.splice(0).forEach(t => t());
  },
};
const location = {protocol: "http:", host: "testserver",
  replace(url) { page.replaced = url; }, assign(url) { page.assigned = url; }};
class WebSocket {
  constructor(url) { this.url = url; this.closed = false; page.sockets.push(this); }
  close() { this.closed = true; }
  receive(event) { this.onmessage({data: JSON.stringify(event)}); }
}
const context = {
  console, JSON, Intl, Date, String, Number, Math, Promise,
  document: {getElementById: id => elements[id] || null, createElement: tag => element(null, {tag}),
             documentElement: {lang: "en"}},
  location, setTimeout: f => timers.push(f), setInterval: f => timers.push(f), WebSocket,
};
context.window = context;
vm.createContext(context);
"""


def run_page_script(name: str, test_js: str) -> dict:
    """Sets the page up with `test_js` (it has `page`, `element` and `context`), runs static/portal/`name`,
    then `test_js`'s `after()` if it defines one; returns what the test put in `result`."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        missing("Node is needed to run the page scripts")
    program = (_PAGE + "let result = {};\nlet after = null;\n" + test_js
               + f"\nvm.runInContext(fs.readFileSync({json.dumps(str(STATIC / name))}, 'utf8'), context);\n"
               + "Promise.resolve().then(() => after && after()).then(() => "
               + "process.stdout.write(JSON.stringify(result)));\n")
    done = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
