"""The website in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

    .venv/bin/python -m course_utils.tools.website          # build the site (fast mode), once
    .venv/bin/pytest docs/tests                        # this file (.ci/run does both)

Not part of the students' ``pytest`` run (it needs a browser from the operating system): ``.ci/run`` installs
Chromium, builds the site and runs it. Without a built site it builds one (fast mode); without Chromium it fails
and says how to install it. ``COURSE_CHROMIUM`` names another Chromium binary, ``COURSE_SITE_DIR`` another build
(``--out``). Screenshots of the landing page and of a notebook page are written to ``<site>/screenshots/`` for a
person to look at.
"""

import functools
import http.server
import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import nbformat
import pytest

from course_utils import runtime
from course_utils.tools import launch, site_pages, website

ROOT = runtime.project_dir()
SITE_DIR = Path(os.environ.get("COURSE_SITE_DIR") or ROOT / website.SITE_DIR_NAME)  # another build: --out
HTML_DIR = SITE_DIR / "html"
SCREENSHOT_DIR = SITE_DIR / "screenshots"
# Chromium as the environment notes of this machine start it: no background connections in a closed network.
CHROMIUM_ARG_L = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _built_site():
    if not (HTML_DIR / "index.html").is_file():
        website.build_site(SITE_DIR)
    return HTML_DIR


def _pages():
    return sorted(path.relative_to(HTML_DIR).as_posix() for path in _built_site().rglob("*.html")
                  if not path.relative_to(HTML_DIR).as_posix().startswith("_"))


def _notebook_pages():
    return [page for page in _pages() if page.startswith("notebooks/")]


def _staged_notebook(page):
    return nbformat.read(SITE_DIR / "source" / page.replace(".html", ".ipynb"), as_version=4)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url():
    handler = functools.partial(_QuietHandler, directory=str(_built_site()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    try:
        executable = website.find_chromium()
    except FileNotFoundError as error:
        pytest.fail(str(error))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARG_L)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, base_url):
    """open_page(path) -> (page, problems): the page loaded, and every console error, page error and failed request
    seen while it loaded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def _open(path):
        page = context.new_page()
        problem_l = []
        page.on("console", lambda message: problem_l.append(f"console {message.type}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: problem_l.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: problem_l.append(f"request failed: {request.url} "
                                                                  f"({request.failure})"))
        page.on("response", lambda response: problem_l.append(f"HTTP {response.status}: {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
        page.goto(base_url + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        return page, problem_l

    yield _open
    context.close()


@pytest.mark.parametrize("page_path", _pages())
def test_every_page_loads_without_an_error(open_page, page_path):
    page, problem_l = open_page(page_path)
    assert page.title(), f"{page_path}: no title"
    assert problem_l == [], f"{page_path}: {problem_l}"


@pytest.mark.parametrize("page_path", _notebook_pages())
def test_every_figure_is_an_image_that_decodes(open_page, page_path):
    """As many images as the executed notebook has figures (PNG outputs), each decoded with a non-zero size."""
    n_figure = sum("image/png" in output.get("data", {}) for cell in _staged_notebook(page_path).cells
                   for output in cell.get("outputs", []))
    page, _ = open_page(page_path)
    size_l = page.evaluate("""async () => {
        const images = Array.from(document.querySelectorAll('main img'));
        await Promise.all(images.map(image => image.decode().catch(() => null)));
        return images.map(image => [image.getAttribute('src'), image.naturalWidth, image.naturalHeight]);
    }""")
    assert len(size_l) == n_figure, f"{page_path}: {len(size_l)} images for {n_figure} figures in the notebook"
    assert all(width > 0 and height > 0 for _, width, height in size_l), f"{page_path}: {size_l}"


@pytest.mark.parametrize("page_path", _notebook_pages())
def test_every_audio_player_has_playable_sound(open_page, page_path):
    """As many players as the notebook's audio outputs; each loads (duration > 0) and its data decodes to sound that
    is not silence (the browser's own decoder, Web Audio)."""
    n_player = sum("<audio" in output.get("data", {}).get("text/html", "") for cell in _staged_notebook(page_path).cells
                   for output in cell.get("outputs", []))
    page, _ = open_page(page_path)
    player_l = page.evaluate("""async () => {
        const out = [];
        for (const player of document.querySelectorAll('main audio')) {
            const event = await new Promise(resolve => {
                player.addEventListener('loadedmetadata', () => resolve('loadedmetadata'), {once: true});
                player.addEventListener('error', () => resolve('error'), {once: true});
                setTimeout(() => resolve('timeout'), 10000);
                player.preload = 'auto';
                player.load();
            });
            const source = player.currentSrc || player.querySelector('source').src;
            const sound = await new OfflineAudioContext(1, 1, 22050).decodeAudioData(
                await (await fetch(source)).arrayBuffer());
            const samples = sound.getChannelData(0);
            let peak = 0;
            for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
            out.push({event, duration: player.duration, decoded_s: sound.duration, peak});
        }
        return out;
    }""")
    assert len(player_l) == n_player, f"{page_path}: {len(player_l)} players for {n_player} audio outputs"
    for player in player_l:
        assert player["event"] == "loadedmetadata" and player["duration"] > 0, f"{page_path}: {player}"
        assert player["decoded_s"] > 0 and player["peak"] > 1e-4, f"{page_path}: {player}"


def test_every_notebook_with_sound_or_figures_shows_them():
    """The checks above count what the notebooks hold: the course's pages have figures and sound at all."""
    n_figure_l = [sum("image/png" in output.get("data", {}) for cell in _staged_notebook(page).cells
                      for output in cell.get("outputs", [])) for page in _notebook_pages()]
    assert len(n_figure_l) == len(website.notebook_paths()), n_figure_l
    assert sum(count > 0 for count in n_figure_l) >= len(n_figure_l) - 1, n_figure_l


def test_every_internal_link_resolves(browser, base_url):
    """Every link from a page to a page of the site, and every '#anchor' of one, lands (HTTP 200, element with
    that id)."""
    context = browser.new_context()
    page = context.new_page()
    link_d, id_d = {}, {}
    for page_path in _pages():
        page.goto(base_url + page_path, wait_until="load")
        id_d[page_path] = set(page.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
        for href in page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
            if urlparse(href).netloc == urlparse(base_url).netloc:
                link_d.setdefault(href, page_path)
    broken_l = []
    for href, from_page in sorted(link_d.items()):
        url, fragment = urldefrag(href)
        target = urlparse(url).path.lstrip("/") or "index.html"
        target = target + "index.html" if target.endswith("/") else target
        if target not in id_d:
            response = context.request.get(url)
            if response.status != 200:
                broken_l.append(f"{from_page} -> {href}: HTTP {response.status}")
            continue
        if fragment and fragment not in id_d[target]:
            broken_l.append(f"{from_page} -> {href}: no element with id '{fragment}'")
    context.close()
    assert len(link_d) > 50, f"only {len(link_d)} internal links found"
    assert broken_l == [], "\n".join(broken_l)


def _cell_text(markdown_cell):
    """A README table cell as the page shows it: no ** or backticks, <br> as a space, spaces collapsed."""
    text = re.sub(r"<br\s*/?>", " ", markdown_cell).replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip()


def test_the_landing_page_results_table_is_the_readmes(open_page):
    readme_row_l = [[_cell_text(cell) for cell in row]
                    for row in site_pages.table_rows(site_pages.results_table_lines((ROOT / "README.md").read_text()))]
    page, _ = open_page("index.html")
    page_row_l = page.evaluate("""() => {
        const table = document.querySelector('section#results-default-mode-test-split-cpu-only table');
        return table ? Array.from(table.querySelectorAll('tr')).map(
            row => Array.from(row.querySelectorAll('th, td')).map(cell => cell.innerText)) : null;
    }""")
    assert page_row_l is not None, "the landing page has no results table under its Results heading"
    page_row_l = [[re.sub(r"\s+", " ", cell).strip() for cell in row] for row in page_row_l]
    assert page_row_l == readme_row_l


@pytest.mark.parametrize("page_path", _notebook_pages())
def test_every_notebook_page_has_its_colab_and_binder_links_when_the_repository_is_known(open_page, page_path):
    """The build says which repository its launch links open (launch.json); none known: no launch link at all."""
    repository = json.loads((SITE_DIR / "launch.json").read_text())["repository"]
    name = Path(page_path).with_suffix(".ipynb").name
    page, _ = open_page(page_path)
    href_l = page.evaluate("Array.from(document.querySelectorAll('main a[href]')).map(a => a.href)")
    if repository:
        assert launch.colab_url(name, repository) in href_l and launch.binder_url(name, repository) in href_l
    else:
        assert not [href for href in href_l if "colab.research.google.com" in href or "mybinder.org" in href]


def test_screenshots_for_a_person_to_look_at(open_page):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    written_l = []
    for page_path, name in [("index.html", "landing.png"), ("notebooks/06_training_multipitch.html", "06.png")]:
        page, _ = open_page(page_path)
        if page_path != "index.html":  # its first figure, below the fold
            page.locator("main img").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT_DIR / name))
        written_l.append(SCREENSHOT_DIR / name)
    for path in written_l:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000, path
