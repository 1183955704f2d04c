"""The portal's page scripts on their own (in Node, against a stand-in of the page): the start progress page
opens the session however early the station answered, the live session page turns into the ended session by
itself, and the card form works with what Stripe.js and its stand-ins send."""

from tests.portal.page_scripts import run_page_script

SETTLE = "await new Promise(resolve => setImmediate(resolve));"


# --- start progress (static/portal/start.js) ------------------------------------------------------------------
def progress_page(settled: str, state: str, session_href: str | None) -> str:
    link = f'{{attributes: {{href: "{session_href}"}}}}' if session_href else "{hidden: true, attributes: {}}"
    return f"""
      element("start-progress", {{dataset: {{settled: "{settled}", state: "{state}", statusUrl: "/status.json"}}}});
      element("progress-message"); element("progress-retry", {{hidden: true}});
      element("progress-session", {link});
    """


def test_the_progress_script_opens_the_session_when_the_page_arrives_already_started():
    result = run_page_script("start.js", progress_page("true", "started", "/portal/sessions/7/") + """
      context.fetch = () => { result.asked = true; return new Promise(() => {}); };
      after = async () => { page.runTimers(); result.replaced = page.replaced; };
    """)
    assert result == {"replaced": "/portal/sessions/7/"}


def test_the_progress_script_leaves_a_page_that_arrives_failed_as_it_is():
    result = run_page_script("start.js", progress_page("true", "failed", None) + """
      context.fetch = () => { result.asked = true; return new Promise(() => {}); };
      after = async () => { page.runTimers(); result.replaced = page.replaced; };
    """)
    assert result == {"replaced": None}


def test_the_progress_script_asks_until_the_session_started_then_replaces_itself_with_it():
    result = run_page_script("start.js", progress_page("false", "waiting", None) + """
      context.fetch = () => Promise.resolve({ok: true, json: () => ({state: "started", settled: true, code: "",
        message: "Charging has started.", session_url: "/portal/sessions/8/"})});
      after = async () => { page.runTimers(); """ + SETTLE + """
        result.replaced = page.replaced; result.message = page.elements["progress-message"].textContent; };
    """)
    assert result == {"replaced": "/portal/sessions/8/", "message": "Charging has started."}


# --- the live session (static/portal/session.js) ---------------------------------------------------------------
LIVE_PAGE = """
  element("live-session", {dataset: {socketPath: "/ws/portal/sessions/5/", startedAt: "2026-11-24T09:00:00+00:00"}});
  element("live-texts", {dataset: {about: "about %(amount)s", na: "not available", live: "Live",
    reconnecting: "Reconnecting…", priced: "Final price: %(amount)s incl. VAT", ended: "Session ended",
    price: "Price", beingPriced: "being priced", review: "Our team is checking this session.",
    statusCharging: "Charging", statusAvailable: "Available"}});
  element("live-title", {_text: "Charging now"}); element("live-status", {_text: "Charging"});
  element("live-power-box"); element("live-power", {_text: "11.0"}); element("live-note");
  element("live-connection"); element("live-message", {hidden: true}); element("live-energy");
  element("live-duration"); element("live-soc-box", {hidden: true}); element("live-soc");
  element("live-cost-label", {_text: "Cost so far"}); element("live-cost", {_text: "about €4.64"});
  element("stop-form"); element("final", {hidden: true}); element("final-cost", {_text: "being calculated"});
  element("final-explanation-heading", {hidden: true}); element("final-explanation", {hidden: true});
  function seen() {
    const e = page.elements, shown = id => !e[id].hidden;
    return {title: e["live-title"].textContent, badge: shown("live-status"), power: shown("live-power-box"),
            live: shown("live-note"), stop: shown("stop-form"), label: e["live-cost-label"].textContent,
            cost: e["live-cost"].textContent, duration: e["live-duration"].textContent,
            energy: e["live-energy"].textContent, final: e["final-cost"].textContent,
            lines: shown("final-explanation") ? e["final-explanation"].childNodes.map(n => n.textContent) : [],
            socket_closed: page.sockets[0].closed};
  }
"""


def test_the_end_turns_the_live_page_into_the_ended_session_then_shows_the_final_price():
    result = run_page_script("session.js", LIVE_PAGE + """
      after = () => {
        const socket = page.sockets[0];
        socket.onopen();
        socket.receive({type: "stopped", session_id: 5, energy_wh: 12345, pricing_state: "pricing",
                        stopped_at: "2026-11-24T09:30:05+00:00"});
        socket.receive({type: "reading", session_id: 5, energy_wh: 99999, power_w: 11000});  // late: ignored
        result.ended = seen();
        socket.receive({type: "priced", session_id: 5, amount: "6.17", currency: "EUR", energy_wh: 12345,
                        explanation: ["Mon 10:00-10:30: 12.345 kWh x 0.50 EUR/kWh = 6.17 EUR",
                                      "Total: 6.17 EUR incl. 19% VAT (0.99 EUR)"]});
        result.priced = seen();
      };
    """)
    assert result["ended"] == {
        "title": "Session ended", "badge": False, "power": False, "live": False, "stop": False, "label": "Price",
        "cost": "being priced", "duration": "0:30:05", "energy": "12.345", "final": "being calculated", "lines": [],
        "socket_closed": False}
    priced = result["priced"]
    assert (priced["label"], priced["cost"], priced["final"]) == ("Price", "€6.17", "Final price: €6.17 incl. VAT")
    assert priced["lines"][-1] == "Total: 6.17 EUR incl. 19% VAT (0.99 EUR)"
    assert priced["socket_closed"]  # nothing is left to wait for


def test_an_ended_session_waiting_for_review_says_so_on_the_live_page():
    result = run_page_script("session.js", LIVE_PAGE + """
      after = () => {
        page.sockets[0].receive({type: "stopped", session_id: 5, energy_wh: 100, pricing_state: "review"});
        result.final = page.elements["final-cost"].textContent;
      };
    """)
    assert result == {"final": "Our team is checking this session."}


# --- saving a card (static/portal/setup_card.js) ---------------------------------------------------------------
CARD_FORM = """
  const button = element("save", {disabled: true});
  element("setup-card", {dataset: {key: "pk_test", msgUnavailable: "unavailable"},
                         selectors: {"button[type=submit]": button}});
  element("card-message");
  const handlers = {};
  context.Stripe = () => ({elements: () => ({create: () => ({
    mount() {}, on(name, handler) { handlers[name] = handler; }})})});
"""


def test_the_card_form_is_enabled_by_a_change_without_an_event_from_a_stand_in_that_never_says_ready():
    result = run_page_script("setup_card.js", CARD_FORM + """
      after = () => {
        result.before = button.disabled;
        handlers.change();
        result.after = button.disabled;
        result.message = page.elements["card-message"].textContent;
      };
    """)
    assert result == {"before": True, "after": False, "message": ""}


def test_the_card_form_follows_stripes_ready_and_shows_its_change_errors():
    result = run_page_script("setup_card.js", CARD_FORM + """
      after = () => {
        handlers.ready({elementType: "card"});
        result.enabled = !button.disabled;
        handlers.change({elementType: "card", error: {message: "Your card number is incomplete."}});
        result.message = page.elements["card-message"].textContent;
        handlers.change({elementType: "card", complete: true});
        result.cleared = page.elements["card-message"].textContent;
      };
    """)
    assert result == {"enabled": True, "message": "Your card number is incomplete.", "cleared": ""}
