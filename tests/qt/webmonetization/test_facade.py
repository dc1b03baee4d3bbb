"""The façade in the main world: shape, frozen, isolated from QWebChannel; iframes refused."""

from __future__ import annotations

from typing import Any

from tests.qt.webmonetization.conftest import page_html


def test_facade_is_frozen_and_only_register_and_monetize(make_tab: Any, sites: Any) -> None:
    site = sites()
    site.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.js(
        """(() => {
        const d = Object.getOwnPropertyDescriptor(window, "WebMonetization");
        const wm = window.WebMonetization;
        return {
          keys: Object.getOwnPropertyNames(wm).sort(),
          frozen: Object.isFrozen(wm),
          writable: d.writable, configurable: d.configurable,
          types: [typeof wm.register, typeof wm.monetize],
        };
    })()"""
    )
    assert result["keys"] == ["monetize", "register"]
    assert result["frozen"] is True
    assert result["writable"] is False
    assert result["configurable"] is False
    assert result["types"] == ["function", "function"]


def test_page_cannot_delete_or_replace_the_facade(make_tab: Any, sites: Any) -> None:
    site = sites()
    site.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.js(
        """(() => {
        const original = window.WebMonetization;
        const out = {};
        out.deleted = delete window.WebMonetization;
        window.WebMonetization = {register() { return 1; }};
        try { Object.defineProperty(window, "WebMonetization", {value: 1}); out.redefined = true; }
        catch (e) { out.redefined = e.name; }
        try { original.register = () => 1; } catch (e) {}
        out.same = window.WebMonetization === original;
        out.registerIsNative = window.WebMonetization.register !== undefined &&
            original.register.toString().indexOf("return 1") === -1;
        return out;
    })()"""
    )
    assert result == {
        "deleted": False,
        "redefined": "TypeError",
        "same": True,
        "registerIsNative": True,
    }


def test_qwebchannel_is_unreachable_from_the_page(make_tab: Any, sites: Any) -> None:
    site = sites()
    site.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.js(
        """(() => ({
        qt: typeof qt,
        channel: typeof QWebChannel,
        transport: typeof window.qt,
        facadeSource: window.WebMonetization.register.toString().indexOf("qt.") === -1,
    }))()"""
    )
    assert result == {
        "qt": "undefined",
        "channel": "undefined",
        "transport": "undefined",
        "facadeSource": True,
    }


def test_subframes_get_a_clean_not_allowed_error(make_tab: Any, sites: Any) -> None:
    top, other = sites(), sites()
    other.pages["/frame"] = page_html(
        script="""
        window.WebMonetization.monetize({destinationAccount: "g.x", sharedSecret: "AAAA"})
          .then(v => report("frame", "resolved"),
                e => parent.postMessage({name: e.name, message: e.message}, "*"));
        """
    )
    top.pages["/"] = page_html(
        body=f'<iframe src="{other.url("/frame")}"></iframe>',
        script='window.addEventListener("message", e => report("frame", e.data));',
    )
    tab = make_tab()
    tab.load(top.url("/"))
    value = tab.wait_report("frame")
    assert value["name"] == "NotAllowedError"
    assert "top-level" in value["message"]
