"""register(): the consent dialog with real widgets and real user gestures; hostile pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.qt.webmonetization.conftest import page_html
from ui.webmonetization.consent import MAX_SHOWN_NAME

REGISTER_ON_CLICK = """
window.onTestClick = () => WebMonetization.register({name: %s, handlerUri: %s})
  .then(v => report("reg", v), e => reportError("reg", e));
"""


def provider(site: Any, name: str = '"Test Provider"', uri: str = '"/handler"') -> None:
    site.pages["/"] = page_html(script=REGISTER_ON_CLICK % (name, uri))
    site.pages["/handler"] = page_html()
    site.pages["/other"] = page_html()


def open_dialog(env: Any, tab: Any) -> Any:
    tab.click()
    try:
        tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is not None, timeout=10000)
    except Exception:
        print("page reports:", tab.page.reports, tab.page.problems)
        raise
    dialog = env.prompter.current_dialog()
    tab.qtbot.waitExposed(dialog)
    return dialog


def test_accept_resolves_true_and_stores(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    assert dialog.origin_label.text() == f"127.0.0.1:{site.port}"
    assert dialog.handler_label.text() == f"http://127.0.0.1:{site.port}/handler"
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is True
    [handler] = env.registry.handlers
    assert (handler.origin, handler.name, handler.uri) == (
        site.origin,
        "Test Provider",
        site.url("/handler"),
    )


def test_reject_resolves_false_and_stores_nothing(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is False
    assert env.registry.handlers == []


def test_already_registered_resolves_true_without_a_dialog(
    env: Any, make_tab: Any, sites: Any
) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is True
    tab.page.reports.clear()
    tab.click()
    assert tab.wait_report("reg") is True
    assert env.prompter.current_dialog() is None
    assert len(env.registry.handlers) == 1


def test_register_without_user_gesture_is_not_allowed(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    site.pages["/"] = page_html(
        script="""
        WebMonetization.register({name: "x", handlerUri: "/handler"})
          .then(v => report("load", v), e => reportError("load", e));
        setTimeout(() => WebMonetization.register({name: "x", handlerUri: "/handler"})
          .then(v => report("timer", v), e => reportError("timer", e)), 0);
        """
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("load")["error"] == "NotAllowedError"
    assert tab.wait_report("timer")["error"] == "NotAllowedError"
    assert env.prompter.current_dialog() is None


LOOP_OF_64 = """
window.onTestClick = () => {
  const all = [];
  let refused = 0;
  for (let i = 0; i < 64; i++) {
    const call = WebMonetization.register({name: "P" + i, handlerUri: "/h"});
    call.then(v => { if (v === false && ++refused === 63) report("refused", 63); });
    all.push(call);
  }
  Promise.all(all).then(v => report("reg", v), e => reportError("reg", e));
};
"""


def test_sixty_four_calls_in_a_loop_make_one_dialog(env: Any, make_tab: Any, sites: Any) -> None:
    """One click, 64 calls with different names: one dialog; the other 63 are false at once."""
    site = sites()
    site.pages["/"] = page_html(script=LOOP_OF_64)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    assert tab.wait_report("refused") == 63  # at once, while the dialog is still open
    assert env.prompter.pending_count() == 1
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") == [True] + [False] * 63
    assert env.prompter.current_dialog() is None
    assert [h.name for h in env.registry.handlers] == ["P0"]


def test_three_dismissals_of_a_loop_and_nothing_more_is_asked(
    env: Any, make_tab: Any, sites: Any
) -> None:
    """After three "Don't allow" answers the origin's further calls are false, no dialog."""
    site = sites()
    site.pages["/"] = page_html(script=LOOP_OF_64)
    tab = make_tab()
    tab.load(site.url("/"))
    for _ in range(3):
        tab.page.reports.clear()
        dialog = open_dialog(env, tab)
        assert tab.wait_report("refused") == 63
        assert env.prompter.pending_count() == 1
        env.arm.fire()
        tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
        assert tab.wait_report("reg") == [False] * 64
        tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None)
    tab.page.reports.clear()
    tab.click()
    assert tab.wait_report("reg") == [False] * 64
    assert env.prompter.current_dialog() is None
    assert env.prompter.pending_count() == 0
    assert env.registry.handlers == []


def test_clicks_and_enter_in_the_first_moment_are_ignored(
    env: Any, make_tab: Any, sites: Any
) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    # inert: a click on Allow does nothing, Enter does nothing
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    QTest.keyClick(dialog, Qt.Key.Key_Enter)
    assert dialog.isVisible()
    assert env.prompter.current_dialog() is dialog
    # armed: Enter still never accepts, wherever the focus is
    env.arm.fire()
    assert dialog.allow_button.isEnabled()
    assert not dialog.allow_button.isDefault()
    assert not dialog.allow_button.autoDefault()
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    dialog.allow_button.setFocus()
    QTest.keyClick(dialog.allow_button, Qt.Key.Key_Return)
    QTest.keyClick(dialog.allow_button, Qt.Key.Key_Enter)
    assert dialog.isVisible()
    assert not tab.page.has("reg")
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is False
    assert env.registry.handlers == []


def test_cross_origin_handler_uri_is_a_security_error(env: Any, make_tab: Any, sites: Any) -> None:
    site, other = sites(), sites()
    provider(site, uri=f'"{other.url("/handler")}"')
    tab = make_tab()
    tab.load(site.url("/"))
    tab.click()
    assert tab.wait_report("reg")["error"] == "SecurityError"
    tab.page.reports.clear()
    tab.js(
        """window.onTestClick = () => WebMonetization.register(
             {name: "x", handlerUri: "javascript:alert(1)"}
           ).then(v => report("reg", v), e => reportError("reg", e))"""
    )
    tab.click()
    assert tab.wait_report("reg")["error"] in ("SecurityError", "TypeError")
    tab.page.reports.clear()
    tab.js(
        """window.onTestClick = () => WebMonetization.register({name: 5, handlerUri: "/h"})
           .then(v => report("reg", v), e => reportError("reg", e))"""
    )
    tab.click()
    assert tab.wait_report("reg")["error"] == "TypeError"
    assert env.prompter.current_dialog() is None


def test_name_with_html_and_ten_kilobytes_is_plain_text_and_capped(
    env: Any, make_tab: Any, sites: Any
) -> None:
    site = sites()
    provider(site, name='"<b>Bold</b><img src=x onerror=alert(1)>" + "A".repeat(10240)')
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    label = dialog.name_label
    assert label.textFormat() == Qt.TextFormat.PlainText
    shown = label.text().removeprefix("It calls itself: ")
    assert shown.startswith("<b>Bold</b><img src=x onerror=alert(1)>")
    assert len(shown) <= MAX_SHOWN_NAME
    for lbl in (dialog.origin_label, dialog.handler_label, dialog.question_label):
        assert lbl.textFormat() == Qt.TextFormat.PlainText
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is False


def test_three_dismissals_and_the_origin_is_not_asked_again(
    env: Any, make_tab: Any, sites: Any
) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    for _ in range(3):
        tab.page.reports.clear()
        dialog = open_dialog(env, tab)
        env.arm.fire()
        dialog.reject()  # Escape / window close
        assert tab.wait_report("reg") is False
        tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None)
    tab.page.reports.clear()
    tab.click()
    assert tab.wait_report("reg") is False
    assert env.prompter.current_dialog() is None
    env.clock.advance(hours=25)
    tab.page.reports.clear()
    dialog = open_dialog(env, tab)
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is True


def test_navigation_cancels_the_dialog(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    open_dialog(env, tab)
    tab.load(site.url("/other"))
    tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None)
    assert env.registry.handlers == []
    # the old document, if still alive to hear it, got `false`; never `true`
    assert not tab.page.has("reg") or tab.page.report("reg") is False


def test_closing_the_tab_cancels_the_dialog(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    open_dialog(env, tab)
    tab.tab.close()
    tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None)
    assert env.registry.handlers == []


def test_forged_results_are_ignored(env: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    tab.js(
        """(() => {
        const ch = new MessageChannel();
        for (let id = 0; id < 50; id++) {
          const forged = {t: "result", id: id, ok: true, value: true};
          window.postMessage(forged, "*");
          const ports = id === 0 ? [ch.port2] : [];
          window.postMessage({__trickle_wm_handshake: "guess", id: id}, "*", ports);
          ch.port1.postMessage(forged);
          window.postMessage({id: String(id), response: "AAAA"}, "*");
        }
        return true;
    })()"""
    )
    # the page's own pending promise is still pending: only Python can settle it
    assert tab.js("1") == 1
    assert not tab.page.has("reg")
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is False


def test_patched_builtins_do_not_leak_the_port(env: Any, make_tab: Any, sites: Any) -> None:
    """A page that patches prototypes the façade might use never receives the port."""
    site = sites()
    site.pages["/"] = page_html(
        script="""
        window.leaks = [];
        const grab = (name) => function () {
          window.leaks.push(name + ":" + (this && this.constructor && this.constructor.name));
        };
        MessagePort.prototype.postMessage = grab("postMessage");
        MessagePort.prototype.start = grab("start");
        Promise.prototype.then = grab("then");
        EventTarget.prototype.addEventListener = grab("addEventListener");
        WeakMap.prototype.get = grab("wmget");
        Reflect.apply = grab("apply");
        window.onTestClick = () => {
          const p = WebMonetization.register({name: "x", handlerUri: "/h"});
          window.pending = p;
        };
        """
    )
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None)
    assert tab.js("window.leaks.filter(x => x.indexOf('MessagePort') !== -1)") == []


def test_a_navigation_that_does_not_replace_the_page_keeps_it_working(
    env: Any, make_tab: Any, sites: Any
) -> None:
    """A 204 starts a navigation (pending prompts are cancelled) but keeps the document: its
    later calls are still answered, never silently dropped."""
    site = sites()
    provider(site)
    site.pages["/nothing"] = ""
    tab = make_tab()
    tab.load(site.url("/"))
    open_dialog(env, tab)
    tab.js(f'location.href = "{site.url("/nothing")}", true')
    tab.qtbot.waitUntil(lambda: env.prompter.current_dialog() is None, timeout=10000)
    assert tab.wait_report("reg") is False
    tab.page.reports.clear()
    dialog = open_dialog(env, tab)
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is True


def test_the_dialog_shows_the_origin_biggest_and_never_cuts_its_title(
    env: Any, make_tab: Any, sites: Any
) -> None:
    site = sites()
    provider(site)
    tab = make_tab()
    tab.load(site.url("/"))
    dialog = open_dialog(env, tab)
    sizes = {
        lbl.objectName(): lbl.font().pointSizeF()
        for lbl in (dialog.origin_label, dialog.handler_label, dialog.question_label)
    }
    assert sizes["origin"] > sizes["handler"] and sizes["origin"] > sizes["question"]
    title_width = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    assert dialog.width() >= title_width * 2 + 160  # room for the title beside the buttons
    artifacts = Path(__file__).resolve().parents[2] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    assert dialog.grab().save(str(artifacts / "consent-dialog.png"))
    env.arm.fire()
    tab.qtbot.mouseClick(dialog.deny_button, Qt.MouseButton.LeftButton)
    assert tab.wait_report("reg") is False
