"""End to end in headless Chromium (the system's /usr/bin/chromium, driven by Playwright): open the page with
the token, browse to the example models, scan, read the cards and a model's detail, download the documents.

Screenshots land in test-artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lbom._web import jobs as web_jobs
from lbom._web.server import available_formats
from tests.conftest import EXAMPLES, ROOT
from tests.web.conftest import TOKEN, Gui

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
StartGui = Callable[[list[Path]], Gui]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Chromium is missing: apt-get install chromium (as .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def new_page(browser: Any, scheme: str = "light") -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 860}, accept_downloads=True, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.errors = errors
    return page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def scan_examples(page: Any, gui: Gui) -> None:
    page.goto(f"{gui.base}/?token={TOKEN}")
    assert page.url == f"{gui.base}/"  # the token left the address bar
    page.get_by_role("button", name=str(EXAMPLES.parent), exact=True).click()
    page.get_by_role("button", name="models", exact=True).click()
    # Locator waits, not wait_for_function: polling a string predicate needs eval, which the page's CSP forbids.
    from playwright.sync_api import expect

    expect(page.locator("#where")).to_have_text(re.compile(r"/examples/models$"))
    shot(page, "gui-browse.png")
    page.get_by_role("button", name="Scan this folder").click()
    page.locator("#cards .card").first.wait_for()


def test_scan_examples_cards_detail_and_downloads(browser: Any, start_gui: StartGui, tmp_path: Path) -> None:
    gui = start_gui([EXAMPLES.parent])
    page = new_page(browser)
    scan_examples(page, gui)

    cards = page.locator("#cards .card")
    assert cards.count() == 4
    assert cards.nth(0).locator(".value").inner_text() == "2"
    assert "gguf 1" in cards.nth(2).inner_text() and "safetensors 1" in cards.nth(2).inner_text()
    assert page.locator("#models-body tr").count() == 2
    shot(page, "gui-results.png")

    page.get_by_role("button", name="TinyLlama Example Q4_K_M").click()
    detail = page.locator("#detail")
    detail.wait_for()
    assert page.locator("#detail-title").inner_text() == "TinyLlama Example Q4_K_M"
    text = detail.inner_text()
    assert "Q4_K_M" in text and "apache-2.0" in text and "llama" in text
    assert "f51bdc7a098ca379437ca94800a41f59bc1b44310343a0568021688fe94a0ac6" in text
    assert detail.locator("svg.chart rect.bar").count() >= 2  # a bar per tensor type
    assert "[STRING × 32]" in text  # the token array shown as a preview
    shot(page, "gui-detail.png")

    with page.expect_download() as info:
        page.locator("#download-json").click()
    saved = tmp_path / "lbom.json"
    info.value.save_as(saved)
    assert info.value.suggested_filename.endswith(".json")
    documents = json.loads(saved.read_text(encoding="utf-8"))
    assert sorted(d["model_name"] for d in documents) == ["TinyLlama Example Q4_K_M", "tiny-mistral"]
    assert {d["sha256"] for d in documents} >= {"f51bdc7a098ca379437ca94800a41f59bc1b44310343a0568021688fe94a0ac6"}

    if "cyclonedx" in available_formats():
        with page.expect_download() as info:
            page.locator("#download-cyclonedx").click()
        bom_path = tmp_path / "lbom.cdx.json"
        info.value.save_as(bom_path)
        bom = json.loads(bom_path.read_text(encoding="utf-8"))
        assert bom["bomFormat"] == "CycloneDX"
        assert any(c.get("type") == "machine-learning-model" for c in bom.get("components", []))

    # Every format the library renders has a download link and a copy button.
    for fmt in available_formats():
        assert page.locator(f"#download-{fmt}").count() == 1
        assert page.locator(f"#copy-{fmt}").count() == 1

    # Reloading keeps the scan and the open model (job id in the URL fragment).
    page.reload()
    page.locator("#detail-title").wait_for()
    assert page.locator("#detail-title").inner_text() == "TinyLlama Example Q4_K_M"
    assert page.locator("#models-body tr").count() == 2
    assert page.errors == []


def test_table_sorts_filters_and_works_from_the_keyboard(browser: Any, start_gui: StartGui) -> None:
    gui = start_gui([EXAMPLES.parent])
    page = new_page(browser, scheme="dark")
    scan_examples(page, gui)
    names = page.locator("#models-body tr td:first-child")
    page.get_by_role("button", name="Parameters").click()
    ascending = names.all_inner_texts()
    page.get_by_role("button", name="Parameters").click()
    assert names.all_inner_texts() == list(reversed(ascending))
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("Parameters")

    page.keyboard.press("/")
    page.keyboard.type("gguf")
    assert names.all_inner_texts() == ["TinyLlama Example Q4_K_M"]
    page.locator("#filter").fill("")

    page.locator("#models-body button.open").first.focus()
    page.keyboard.press("Enter")
    page.locator("#detail").wait_for()
    shot(page, "gui-dark.png")
    page.keyboard.press("Escape")
    assert page.locator("#detail").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('open')")
    assert page.errors == []


def test_cancel_a_scan_from_the_page(browser: Any, start_gui: StartGui, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scan = web_jobs.scan

    def scan_until_cancelled(paths: list[str], options: Any) -> Any:
        deadline = time.monotonic() + 10
        while not options.cancel() and time.monotonic() < deadline:
            time.sleep(0.01)
        return real_scan(paths, options=options)

    monkeypatch.setattr(web_jobs, "scan", scan_until_cancelled)
    gui = start_gui([EXAMPLES.parent])
    page = new_page(browser)
    page.goto(f"{gui.base}/?token={TOKEN}")
    page.get_by_role("button", name=f"Scan {EXAMPLES.parent}", exact=True).click()
    page.locator("#progress").wait_for()
    assert (
        "files" in page.locator("#progress-text").inner_text()
        or "looking" in page.locator("#progress-text").inner_text()
    )
    shot(page, "gui-progress.png")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The scan was cancelled.").wait_for()
    assert page.locator("#results").is_hidden()


def test_page_without_token_shows_how_to_get_in(browser: Any, start_gui: StartGui) -> None:
    gui = start_gui([EXAMPLES.parent])
    page = new_page(browser)
    page.goto(f"{gui.base}/")
    banner = page.locator("#banner")
    banner.wait_for()
    assert "access token" in banner.inner_text()
    assert page.locator("#entries li").count() == 0
    shot(page, "gui-no-token.png")


def test_hostile_names_are_shown_as_text_with_their_findings(browser: Any, start_gui: StartGui, tmp_path: Path) -> None:
    """A model whose name and license are HTML, in a truncated file: text on the page, findings with remedies."""
    from tests.builders import write_gguf

    root = tmp_path / "hostile"
    root.mkdir()
    model = write_gguf(
        root / "evil.gguf",
        extra={"general.name": '<img src=x onerror="window.__xss=1">Evil', "general.license": "<b>mit</b>"},
    )
    model.write_bytes(model.read_bytes()[:-64])  # truncated: the tensor data runs past the end
    gui = start_gui([root])
    page = new_page(browser)
    page.goto(f"{gui.base}/?token={TOKEN}")
    page.get_by_role("button", name=f"Scan {root}", exact=True).click()
    page.locator("#cards .card").first.wait_for()
    assert "high 1" in page.locator("#cards").inner_text()
    page.locator("#models-body button.open").first.click()
    page.locator("#detail").wait_for()
    assert page.locator("#detail-title").inner_text() == '<img src=x onerror="window.__xss=1">Evil'
    assert page.locator("#main img").count() == 0 and page.locator("#main b").count() == 0
    assert page.evaluate("window.__xss") is None
    findings = page.locator("#detail .findings li")
    assert findings.count() == 1
    assert "LBOM-GGUF-007" in findings.inner_text() and "re-download" in findings.locator(".remedy").inner_text()
    shot(page, "gui-findings.png")
    assert page.errors == []


def test_lock_verify_and_compare_from_the_page(browser: Any, start_gui: StartGui, tmp_path: Path) -> None:
    from tests.builders import write_gguf

    root = tmp_path / "pinned"
    root.mkdir()
    write_gguf(root / "m.gguf", extra={"general.name": "Pinned"})
    gui = start_gui([root])
    page = new_page(browser)
    page.goto(f"{gui.base}/?token={TOKEN}")
    page.get_by_role("button", name=f"Scan {root}", exact=True).click()
    page.locator("#gate").wait_for()
    with page.expect_download() as info:
        page.locator("#download-lock").click()
    lock_path = tmp_path / "models.lock"
    info.value.save_as(lock_path)
    assert info.value.suggested_filename == "models.lock"
    assert '"m.gguf"' in lock_path.read_text(encoding="utf-8")

    page.locator("#lock-file").set_input_files(str(lock_path))
    page.locator("#verify-run").click()
    assert page.locator("#gate-verdict").inner_text() == "✓ No differences."

    write_gguf(root / "m.gguf", extra={"general.name": "Pinned", "general.license": "mit"})  # the file changes
    page.get_by_role("button", name=f"Scan {root}", exact=True).click()
    # Both scans finished (a running scan's entry shows its state instead of "N model(s)").
    page.locator("#scans li").filter(has_text=re.compile(r"\d+ models?")).nth(1).wait_for()
    # ...and the page shows the new scan's result (its model now has a license), so verify runs against it.
    page.get_by_role("cell", name="mit", exact=True).wait_for()
    page.locator("#diff-run").wait_for()
    page.locator("#lock-file").set_input_files(str(lock_path))
    # A scan started elsewhere (another tab, the API) finishes while the lock file is chosen: the list refreshes and
    # the section is rebuilt with one more scan to compare with. The chosen file must survive that (a late list
    # refresh used to rebuild the section with an empty file input, and the verdict never came).
    first = min(gui.get("/api/scans").json()["scans"], key=lambda j: j["created"])["id"]
    gui.wait(gui.post("/api/scans", {"paths": [str(root)]}).json()["id"])
    page.evaluate("refreshScans()")
    from playwright.sync_api import expect

    expect(page.locator("#diff-old option")).to_have_count(2)
    page.locator("#verify-run").click()
    page.get_by_text("✗ Differences found.").wait_for()
    assert "m.gguf" in page.locator("#gate-output pre").inner_text()
    page.locator("#diff-old").select_option(first)
    page.locator("#diff-run").click()
    page.get_by_text("✗ Differences found.").wait_for()

    expect(page.locator("#gate-output pre")).to_contain_text("license")

    policy_path = tmp_path / "policy.toml"
    policy_path.write_text('[formats]\ndeny = ["gguf"]\n', encoding="utf-8")
    page.locator("#policy-file").set_input_files(str(policy_path))
    page.locator("#policy-run").click()
    page.locator("#gate-output .findings li").first.wait_for()
    assert "LBOM-POLICY" in page.locator("#gate-output .findings").inner_text()
    assert page.locator("#gate-verdict").inner_text() == "✗ The policy fails."
    shot(page, "gui-policy.png")
    shot(page, "gui-compare.png")
    assert page.errors == []


# --- layout at common laptop sizes, keyboard ---------------------------------------------------------------

LAPTOP_SIZES = [(1280, 800), (1024, 768)]


def laptop_page(browser: Any, width: int, height: int, scheme: str) -> Any:
    page = new_page(browser, scheme)
    page.set_viewport_size({"width": width, "height": height})
    return page


def layout_root(tmp_path: Path) -> Path:
    """The examples plus a truncated model with a long name deep in long folder names (so it has findings)."""
    from tests.builders import write_gguf

    root = tmp_path / "layout"
    shutil.copytree(EXAMPLES, root / "examples")
    folder = root / "models-with-long-names" / "sub-folder-two" / "and-three"
    folder.mkdir(parents=True)
    model = write_gguf(
        folder / "truncated-long-name-model.gguf",
        arch="Qwen2VLForConditionalGeneration",  # as long as the architecture classes of real models
        extra={"general.name": "Truncated model with a long descriptive name", "general.license": "apache-2.0"},
    )
    model.write_bytes(model.read_bytes()[:-64])
    return root


def line_break_characters(page: Any, selector: str) -> list[str]:
    """The character just before each place where the element's text wraps to a new line."""
    return list(
        page.locator(selector).evaluate(
            """(node) => {
                const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
                const breaks = [];
                let top = null, previous = null, text;
                while ((text = walker.nextNode())) {
                    for (let i = 0; i < text.length; i++) {
                        const range = document.createRange();
                        range.setStart(text, i);
                        range.setEnd(text, i + 1);
                        const rect = range.getBoundingClientRect();
                        if (rect.width === 0 && rect.height === 0) continue;
                        if (top !== null && rect.top > top + 2) breaks.push(previous);
                        top = rect.top;
                        previous = text.data[i];
                    }
                }
                return breaks;
            }"""
        )
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("width", "height"), LAPTOP_SIZES)
def test_results_fit_common_laptop_sizes(
    browser: Any, start_gui: StartGui, tmp_path: Path, width: int, height: int, scheme: str
) -> None:
    root = layout_root(tmp_path)
    gui = start_gui([root])
    page = laptop_page(browser, width, height, scheme)
    page.goto(f"{gui.base}/?token={TOKEN}")
    page.get_by_role("button", name=f"Scan {root}", exact=True).click()
    page.locator("#cards .card").first.wait_for()
    assert page.locator("#models-body tr").count() == 3
    assert "high 1" in page.locator("#models-body").inner_text()

    # Every header cell of the models table lies inside the table's box (nothing cut off or scrolled away).
    box = page.locator("#models").locator("xpath=..").bounding_box()
    headers = page.locator("#models-head th")
    visible = [headers.nth(i) for i in range(headers.count()) if headers.nth(i).is_visible()]
    assert len(visible) >= 5
    for header in visible:
        cell = header.bounding_box()
        assert cell["x"] >= box["x"] - 0.5, header.inner_text()
        assert cell["x"] + cell["width"] <= box["x"] + box["width"] + 0.5, (header.inner_text(), cell, box)
    assert [h.inner_text() for h in visible][:1] == ["Name ▲"] or visible[0].inner_text().startswith("Name")
    assert "Findings" in visible[-1].inner_text()

    # Findings: "none" and the badges start at the same place in their cells.
    lefts = {
        round(c["x"])
        for c in page.locator("#models-body td:last-child > :first-child").evaluate_all(
            "(nodes) => nodes.map((n) => { const r = n.getBoundingClientRect(); "
            "return {x: r.left - n.parentElement.getBoundingClientRect().left}; })"
        )
    }
    assert len(lefts) == 1, lefts

    # The summary cards keep their own height instead of stretching to the tallest (the Findings card).
    card_heights = [page.locator("#cards .card").nth(i).bounding_box()["height"] for i in range(4)]
    assert card_heights[0] < card_heights[3] - 10, card_heights

    # The filter's placeholder is not cut off.
    needed, room = page.locator("#filter").evaluate(
        """(input) => {
            const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            return [context.measureText(input.placeholder).width,
                    input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)];
        }"""
    )
    assert needed <= room, (needed, room)

    # hf-readme describes one model: for this scan of three it is disabled, and says why.
    if "hf-readme" in available_formats():
        assert page.locator("#download-hf-readme").is_disabled()
        assert page.locator("#copy-hf-readme").is_disabled()
        assert "one-model" in page.locator("#export-list .export.off").inner_text()

    # Compare / Verify / Check buttons line up.
    page.locator("#verify-run").wait_for()
    xs = {round(page.locator(f"#{b}").bounding_box()["x"]) for b in ("diff-file-run", "verify-run", "policy-run")}
    assert len(xs) == 1, xs

    # The detail: the tensor-type chart scales into its card, no label cut off; the path wraps only after a '/'.
    page.get_by_role("button", name="TinyLlama Example Q4_K_M").click()
    page.locator("#detail svg.chart").wait_for()
    chart = page.locator("#detail svg.chart")
    card = chart.locator("xpath=..").bounding_box()
    drawn = chart.bounding_box()
    assert drawn["x"] >= card["x"] - 0.5 and drawn["x"] + drawn["width"] <= card["x"] + card["width"] + 0.5
    texts = chart.locator("text")
    assert texts.count() == 6
    for i in range(texts.count()):
        label = texts.nth(i).bounding_box()
        assert drawn["x"] - 0.5 <= label["x"], texts.nth(i).text_content()
        assert label["x"] + label["width"] <= drawn["x"] + drawn["width"] + 0.5, texts.nth(i).text_content()
    assert "8.19K · 91.4% · 2 tensors" in (chart.text_content() or "")
    assert set(line_break_characters(page, "#detail .kv dd.path >> nth=0")) <= {"/"}
    shot(page, f"gui-{width}x{height}-{scheme}.png")

    page.get_by_role("button", name="Truncated model with a long descriptive name").click()
    page.locator("#detail-title").get_by_text("Truncated model").wait_for()
    breaks = line_break_characters(page, "#detail .kv dd.path >> nth=0")
    assert breaks and set(breaks) <= {"/"}, breaks  # long enough to wrap, and wraps between folders
    shot(page, f"gui-{width}x{height}-{scheme}-findings.png")
    assert page.errors == []


def test_folder_browser_keeps_keyboard_focus(browser: Any, start_gui: StartGui) -> None:
    gui = start_gui([EXAMPLES.parent])
    page = new_page(browser)
    page.goto(f"{gui.base}/?token={TOKEN}")
    from playwright.sync_api import expect

    root_button = page.get_by_role("button", name=str(EXAMPLES.parent), exact=True)
    root_button.wait_for()
    for _ in range(10):  # Tab from the top of the page to the served folder
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.path") == str(EXAMPLES.parent):
            break
    else:
        raise AssertionError("Tab never reached the folder")
    page.keyboard.press("Enter")
    expect(page.locator("#where")).to_have_text(str(EXAMPLES.parent))
    # Focus moved into the new listing (not to <body>), so the keyboard keeps working from here.
    assert page.evaluate("document.activeElement.closest('#entries') !== null")
    page.keyboard.press("Enter")  # the first folder is models/ (make_examples.py, a file, comes before it)
    expect(page.locator("#where")).to_have_text(str(EXAMPLES))
    page.keyboard.press("Backspace")
    expect(page.locator("#where")).to_have_text(str(EXAMPLES.parent))
    # ...and focus is back on the folder we came from.
    assert page.evaluate("document.activeElement.dataset.path") == str(EXAMPLES)
    page.keyboard.press("Backspace")
    expect(page.locator("#where")).to_have_text("Folders you can scan")
    assert page.evaluate("document.activeElement.dataset.path") == str(EXAMPLES.parent)
    assert page.errors == []
