//! The pages in a real headless Chromium, driven over WebDriver: instant filters, query toggles,
//! copy buttons, technique links, screenshots, and hostile rule text.
//!
//! Each test starts its own chromedriver (Debian's `chromium-driver`) on a free loopback port and
//! its own Chromium with a fresh profile, and ends both when it finishes, passed or failed.
//! Without Chromium these tests fail; they never skip.

use std::future::Future;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::util::{Server, fixture_server, repo_root, shared_server};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL_HINT: &str = "the browser tests need Debian's chromium and chromium-driver packages \
     (apt-get install chromium chromium-driver)";
/// How long chromedriver, a page or an awaited condition may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// One browser at a time: on two cores, Chromiums started side by side slow each other down
/// to the point of timeouts.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// chromedriver on a free loopback port, killed when dropped. Its temporary folder holds its
/// log and the browser profile.
struct Driver {
    process: Child,
    url: String,
    dir: TempDir,
}

impl Driver {
    fn start() -> Driver {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(Path::new(program).exists(), "{program} is missing: {INSTALL_HINT}");
        }
        // A port free when asked can be taken before chromedriver binds it: then try another.
        for _ in 0..5 {
            let mut driver = Driver::launch(free_port());
            if driver.wait_until_ready() {
                return driver;
            }
        }
        panic!("chromedriver did not start on any of 5 loopback ports");
    }

    fn launch(port: u16) -> Driver {
        let dir = tempfile::tempdir().unwrap();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", dir.path().join("chromedriver.log").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER} ({e}): {INSTALL_HINT}"));
        Driver { process, url: format!("http://127.0.0.1:{port}"), dir }
    }

    /// True once chromedriver answers its status endpoint; false if it exited first.
    fn wait_until_ready(&mut self) -> bool {
        let agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).build().new_agent();
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            if self.process.try_wait().unwrap().is_some() {
                return false;
            }
            if agent.get(&format!("{}/status", self.url)).call().is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("chromedriver did not answer at {} within {PATIENCE:?}", self.url);
    }

    /// The end of chromedriver's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("no free loopback port");
    listener.local_addr().unwrap().port()
}

/// A WebDriver session on one headless Chromium, with the helpers these tests share.
#[derive(Clone)]
struct Browser {
    client: Client,
    /// This session's URL on chromedriver, for commands fantoccini has no method for.
    session_url: String,
}

impl Browser {
    async fn start(driver: &Driver, javascript: bool) -> Browser {
        let profile = driver.dir.path().join("profile");
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            // An alert stays open for the test to see, instead of being dismissed.
            "unhandledPromptBehavior": "ignore",
            "timeouts": { "pageLoad": PATIENCE.as_millis() as u64, "script": PATIENCE.as_millis() as u64 },
        }))
        .unwrap();
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("no {CHROMIUM} session ({e}); {INSTALL_HINT}\n{}", driver.log_tail()));
        let id = client.session_id().await.unwrap().expect("a WebDriver session has an ID");
        let browser = Browser { client, session_url: format!("{}/session/{id}", driver.url) };
        browser.set_viewport(1280, 900).await;
        browser
    }

    async fn open(&self, server: &Server, path: &str) {
        self.client.goto(&server.url(path)).await.unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed ({e}): {script}"))
    }

    async fn find(&self, css: &str) -> Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} ({e})"))
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The elements matching `css` that a person would see: not hidden, not in a closed `details`.
    async fn visible(&self, css: &str) -> Vec<Element> {
        let mut shown = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.unwrap() {
            if element.is_displayed().await.unwrap() {
                shown.push(element);
            }
        }
        shown
    }

    /// The IDs of the visible cards, in page order.
    async fn visible_card_ids(&self) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll('article.card'))\
                      .filter((card) => card.checkVisibility()).map((card) => card.id)";
        serde_json::from_value(self.js(script).await).unwrap()
    }

    /// Every filter checkbox's count, as `name=value: count`, in page order.
    async fn option_counts(&self) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll('#filters fieldset.facet label'), (label) => \
                      `${label.querySelector('input').name}=${label.querySelector('input').value}: \
                      ${label.querySelector('.count').textContent}`)";
        serde_json::from_value(self.js(script).await).unwrap()
    }

    /// The first visible `card` whose descendant `css` exists.
    async fn first_visible_card_with(&self, css: &str) -> Element {
        for card in self.visible("article.card").await {
            if card.find(Locator::Css(css)).await.is_ok() {
                return card;
            }
        }
        panic!("no visible card has {css}");
    }

    /// Reloads the page from the server and waits for the new document.
    async fn reload(&self) {
        self.js("window.__beforeReload = 1").await;
        self.client.refresh().await.unwrap();
        self.eventually("the reloaded page", || async {
            let script = "return window.__beforeReload === undefined && document.readyState === 'complete'";
            self.js(script).await == json!(true)
        })
        .await;
    }

    async fn current_path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Resizes the window so that the page itself is `width` x `height` CSS pixels.
    async fn set_viewport(&self, width: u64, height: u64) {
        let (outer_width, outer_height) = self.client.get_window_size().await.unwrap();
        let inner = self.js("return [window.innerWidth, window.innerHeight]").await;
        let (inner_width, inner_height) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        let (frame_width, frame_height) = (outer_width - inner_width, outer_height - inner_height);
        let size = |pixels: u64| u32::try_from(pixels).unwrap();
        self.client.set_window_size(size(width + frame_width), size(height + frame_height)).await.unwrap();
    }

    /// The whole page as a PNG, `width` CSS pixels wide: the viewport grows to the page's height.
    async fn full_page_png(&self, width: u64) -> Vec<u8> {
        self.set_viewport(width, 900).await;
        let height = self.js("return document.documentElement.scrollHeight").await.as_u64().unwrap();
        self.set_viewport(width, height).await;
        self.client.screenshot().await.unwrap()
    }

    /// A command chromedriver offers beyond fantoccini: `path` under this session, JSON `body`.
    async fn driver_command(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/{path}", self.session_url);
        let answer = tokio::task::spawn_blocking(move || {
            let mut response = ureq::post(&url)
                .header("content-type", "application/json")
                .send(body.to_string())
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            response.body_mut().read_to_string().unwrap()
        })
        .await
        .unwrap();
        serde_json::from_str::<Value>(&answer).unwrap()["value"].take()
    }

    /// Polls `check` until it holds: page scripts answer clicks asynchronously.
    async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let start = Instant::now();
        while !check().await {
            assert!(start.elapsed() < PATIENCE, "waited {PATIENCE:?} in vain for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Runs `test` in a fresh browser with JavaScript on.
fn in_browser<F, Fut>(test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(true, test);
}

/// Runs `test` in a fresh browser with JavaScript off, as some readers browse.
fn in_browser_without_javascript<F, Fut>(test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(false, test);
}

/// Starts chromedriver and a session, runs `test`, and ends the session even when `test`
/// panics (killing chromedriver alone would leave Chromium running); then chromedriver ends.
fn run<F, Fut>(javascript: bool, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _one_at_a_time = ONE_BROWSER.lock().unwrap_or_else(PoisonError::into_inner);
    let driver = Driver::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let browser = Browser::start(&driver, javascript).await;
        let outcome = tokio::spawn(test(browser.clone())).await;
        if let Err(error) = browser.client.close().await {
            eprintln!("closing the browser session failed: {error}");
        }
        if let Err(error) = outcome {
            match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(error) => panic!("the browser test did not finish: {error}"),
            }
        }
    });
}

#[test]
fn technique_page_counts_the_cards_it_shows() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        assert_eq!(browser.client.title().await.unwrap(), "T1090 Proxy · detections");
        assert_eq!(browser.text("h1").await, "T1090 Proxy");
        let shown: usize = browser.text("#shown-count").await.parse().unwrap();
        let all = browser.client.find_all(Locator::Css("article.card")).await.unwrap().len();
        assert!(shown > 0 && all == shown, "the page carries the {shown} cards its filters keep, not {all}");
        assert_eq!(browser.visible("article.card").await.len(), shown, "#shown-count counts the visible cards");
        let line = browser.text("#shown-line").await;
        let total: usize =
            line.split("shown of the ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap().parse().unwrap();
        assert!(total > shown, "community content is counted, not sent: {shown} of {total}");
    });
}

/// The largest families come a page at a time; "next cards" adds the next page in place.
#[test]
fn large_families_load_their_next_cards_in_place() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1059?community=1").await;
        let shown: usize = browser.text("#shown-count").await.parse().unwrap();
        assert!(shown > 200, "T1059 with community content holds {shown} detections");
        assert_eq!(browser.visible("article.card").await.len(), 100, "the first page");
        browser.js("window.__noReload = 1").await;
        browser.find("#pager a.more").await.click().await.unwrap();
        browser.eventually("the next cards", || async { browser.visible("article.card").await.len() == 200 }).await;
        let ids = browser.visible_card_ids().await;
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 200, "each card once");
        assert_eq!(browser.text("#shown-range").await, "1–200");
        assert_eq!(browser.js("return window.__noReload").await, json!(1), "the page was reloaded");
        assert!(browser.client.current_url().await.unwrap().query().unwrap_or_default().contains("community=1"));
    });
}

#[test]
fn vendor_filter_applies_in_place_and_updates_the_count_and_the_url() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let apply = browser.find("#filters .apply button").await;
        assert!(!apply.is_displayed().await.unwrap(), "with JavaScript, filters apply without the button");
        browser.js("window.__noReload = 1").await;

        let splunk = "//form[@id='filters']//fieldset[@data-facet='vendor']\
                      //label[normalize-space(text()[1])='Splunk']/input";
        browser.client.find(Locator::XPath(splunk)).await.expect("a Splunk vendor checkbox").click().await.unwrap();
        browser
            .eventually("the URL to follow the filter", || async {
                browser.client.current_url().await.unwrap().query().unwrap_or_default().contains("vendor=Splunk")
            })
            .await;

        let cards = browser.visible("article.card").await;
        for card in &cards {
            assert_eq!(card.attr("data-vendor").await.unwrap().as_deref(), Some("Splunk"));
        }
        assert!(cards.len() >= 5, "only {} Splunk cards", cards.len());
        assert_eq!(browser.text("#shown-count").await, cards.len().to_string());
        let groups = browser.visible("section.vendor-group").await;
        assert_eq!(groups.len(), 1, "only the Splunk group is left");
        assert_eq!(
            groups[0].find(Locator::Css(".group-count")).await.unwrap().text().await.unwrap(),
            cards.len().to_string()
        );
        assert_eq!(browser.current_path().await, "/techniques/T1090");
        assert_eq!(browser.js("return window.__noReload").await, json!(1), "the page was reloaded");
    });
}

/// Switching community content on in place offers the values only community content has (Sigma
/// as a language), and a value ticked from them filters like any other.
#[test]
fn community_switch_brings_its_own_filter_values() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let sigma = "#filters fieldset.facet input[name=language][value=sigma]";
        assert!(browser.client.find_all(Locator::Css(sigma)).await.unwrap().is_empty());
        browser.js("window.__noReload = 1").await;
        browser.find("#filters input[name=community]").await.click().await.unwrap();
        browser
            .eventually("Sigma among the languages", || async {
                !browser.client.find_all(Locator::Css(sigma)).await.unwrap().is_empty()
            })
            .await;
        browser.find(sigma).await.click().await.unwrap();
        browser
            .eventually("only Sigma cards", || async {
                // Read in one step: the cards are replaced while the filter applies.
                let languages = browser
                    .js("return Array.from(document.querySelectorAll('article.card:not([hidden])'), c => c.dataset.language)")
                    .await;
                let languages = languages.as_array().unwrap();
                !languages.is_empty() && languages.iter().all(|l| l == "sigma")
            })
            .await;
        assert_eq!(browser.js("return window.__noReload").await, json!(1), "the page was reloaded");
    });
}

/// Filtering in place and the server's rendering of the filtered URL (a reload, a shared
/// link) show the same cards: community content named by vendor, sub-techniques, deprecated.
#[test]
fn instant_filters_show_the_cards_the_server_shows_for_the_same_url() {
    let server = shared_server();
    in_browser(|browser| async move {
        let picks: [&[&str]; 4] =
            [&["vendor=Sigma"], &["exact=1"], &["deprecated=1"], &["vendor=Splunk", "language=spl"]];
        for picked in picks {
            browser.open(server, "/techniques/T1090").await;
            let unfiltered = browser.visible_card_ids().await;
            for pick in picked {
                let (name, value) = pick.split_once('=').unwrap();
                browser.find(&format!("#filters input[name='{name}'][value='{value}']")).await.click().await.unwrap();
            }
            browser
                .eventually("the URL to follow the filters", || async {
                    let url = browser.client.current_url().await.unwrap();
                    picked.iter().all(|pick| url.query().unwrap_or_default().contains(pick))
                })
                .await;
            let instant = browser.visible_card_ids().await;
            let instant_counts = browser.option_counts().await;
            assert_ne!(instant, unfiltered, "{picked:?} changes nothing");
            browser.reload().await;
            assert_eq!(browser.visible_card_ids().await, instant, "{picked:?}: the server shows other cards");
            assert_eq!(browser.option_counts().await, instant_counts, "{picked:?}: the server counts otherwise");
        }
    });
}

#[test]
fn show_query_opens_the_query_of_a_card() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let card = browser.first_visible_card_with("details.query").await;
        let code = card.find(Locator::Css("details.query pre code")).await.unwrap();
        assert!(!code.is_displayed().await.unwrap(), "queries start folded");
        card.find(Locator::Css("details.query > summary")).await.unwrap().click().await.unwrap();
        assert!(code.is_displayed().await.unwrap());
        assert!(!code.text().await.unwrap().trim().is_empty(), "the query is empty");
    });
}

#[test]
fn without_javascript_copy_buttons_stay_hidden_and_filters_keep_their_button() {
    let server = shared_server();
    in_browser_without_javascript(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let card = browser.first_visible_card_with("button.copy").await;
        card.find(Locator::Css("details.query > summary")).await.unwrap().click().await.unwrap();
        let code = card.find(Locator::Css("pre code")).await.unwrap();
        assert!(code.is_displayed().await.unwrap(), "the query opens without JavaScript");
        let copy = card.find(Locator::Css("button.copy")).await.unwrap();
        assert!(!copy.is_displayed().await.unwrap(), "a copy button that cannot work is hidden");
        assert!(browser.find("#filters .apply button").await.is_displayed().await.unwrap());
    });
}

#[test]
fn copy_button_hands_the_query_text_to_the_clipboard() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let card = browser.first_visible_card_with("button.copy").await;
        card.find(Locator::Css("details.query > summary")).await.unwrap().click().await.unwrap();
        let copy = card.find(Locator::Css("button.copy")).await.unwrap();
        assert!(copy.is_displayed().await.unwrap(), "JavaScript shows the copy button");
        // Headless Chromium's clipboard needs permissions; record what the page asks to copy.
        browser
            .js("window.__copied = null; \
                 navigator.clipboard.writeText = (text) => { window.__copied = text; return Promise.resolve(); };")
            .await;
        copy.click().await.unwrap();
        browser.eventually("the button to say Copied", || async { copy.text().await.unwrap() == "Copied" }).await;
        let query = card.find(Locator::Css("pre code")).await.unwrap().prop("textContent").await.unwrap();
        assert!(query.as_deref().is_some_and(|q| !q.trim().is_empty()));
        assert_eq!(browser.js("return window.__copied").await.as_str(), query.as_deref());
    });
}

#[test]
fn copy_button_puts_the_query_on_the_real_clipboard() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        for permission in ["clipboard-read", "clipboard-write"] {
            let grant = json!({ "descriptor": { "name": permission }, "state": "granted" });
            browser.driver_command("permissions", grant).await;
        }
        // A headless window never has focus, and the clipboard only serves a focused page.
        let focus = json!({ "cmd": "Emulation.setFocusEmulationEnabled", "params": { "enabled": true } });
        browser.driver_command("goog/cdp/execute", focus).await;

        let card = browser.first_visible_card_with("button.copy").await;
        card.find(Locator::Css("details.query > summary")).await.unwrap().click().await.unwrap();
        let copy = card.find(Locator::Css("button.copy")).await.unwrap();
        copy.click().await.unwrap();
        browser.eventually("the button to say Copied", || async { copy.text().await.unwrap() == "Copied" }).await;
        let query = card.find(Locator::Css("pre code")).await.unwrap().prop("textContent").await.unwrap();
        let clipboard = browser
            .client
            .execute_async(
                "navigator.clipboard.readText().then(arguments[0], (e) => arguments[0]('error: ' + e))",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(clipboard.as_str(), query.as_deref());
    });
}

#[test]
fn technique_chip_leads_to_the_sub_technique_page() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let chips = "a.chip[href='/techniques/T1090.003']";
        let card = browser.first_visible_card_with(chips).await;
        let chip = card.find(Locator::Css(chips)).await.unwrap();
        assert_eq!(chip.text().await.unwrap(), "T1090.003");
        chip.click().await.unwrap();
        browser
            .eventually("the sub-technique page", || async { browser.current_path().await == "/techniques/T1090.003" })
            .await;
        let heading = browser.text("h1").await;
        assert!(heading.contains("Multi-hop Proxy"), "{heading}");
    });
}

/// Saves test-artifacts/t1090.png (the whole page, 1280 pixels wide) and t1090-phone.png (the
/// first screen on a 390 x 844 phone), for people to look at.
#[test]
fn t1090_page_screenshots_for_desktop_and_phone() {
    let server = shared_server();
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let desktop = browser.full_page_png(1280).await;
        // Phones fold the filters when the page loads: load it again at phone size.
        browser.set_viewport(390, 844).await;
        browser.reload().await;
        let phone_layout = browser.js("return matchMedia('(max-width: 720px)').matches").await;
        assert_eq!(phone_layout, json!(true), "the phone layout applies at 390 pixels");
        let folded = browser.js("return document.getElementById('filter-panel').open").await;
        assert_eq!(folded, json!(false), "phones start with the filters folded");
        let phone = browser.client.screenshot().await.unwrap();
        for (name, png) in [("t1090.png", desktop), ("t1090-phone.png", phone)] {
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
            assert!(png.len() > 20_000, "{name} has only {} bytes", png.len());
            std::fs::write(artifacts.join(name), png).unwrap();
        }
    });
}

/// The fixture rule's title, description and query carry script tags, event handlers and
/// `javascript:` links; a browser must show them as text and run none of them.
#[test]
fn hostile_rule_text_runs_no_script_in_the_browser() {
    let server = fixture_server();
    in_browser(|browser| async move {
        browser.open(server, "/detections/chronicle/fixture_hostile_strings").await;
        let alert = browser.client.get_alert_text().await;
        assert!(alert.as_ref().is_err_and(|e| e.is_no_such_alert()), "an alert opened: {alert:?}");
        assert_eq!(browser.js("return document.querySelectorAll('img, svg').length").await, json!(0));
        let scripts = browser.js("return Array.from(document.scripts, (s) => s.getAttribute('src'))").await;
        let only_app_js = scripts
            .as_array()
            .is_some_and(|s| s.len() == 1 && s[0].as_str().is_some_and(|src| src.starts_with("/static/app.js")));
        assert!(only_app_js, "only app.js runs: {scripts}");
        let heading = browser.text("h1").await;
        assert!(heading.contains("<script>alert('title')</script>"), "the title is shown as written: {heading}");
    });
}

/// What is wrong with the matrix's layout at the current width: the page scrolling sideways, a
/// cell or tactic name running out of its box, a word broken inside (between letters rather
/// than after a space, slash or hyphen). Empty when nothing is.
const MATRIX_LAYOUT_PROBLEMS: &str = r#"
const problems = [];
if (document.documentElement.scrollWidth > window.innerWidth) {
  problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
}
for (const box of document.querySelectorAll('.matrix h3, .matrix .cell')) {
  if (box.scrollWidth > box.clientWidth + 1) problems.push(`runs out of its box: ${box.textContent}`);
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode;
    for (const word of text.data.matchAll(/[^\s\/-]+[\/-]?/g)) {
      const range = document.createRange();
      range.setStart(text, word.index);
      range.setEnd(text, word.index + word[0].length);
      const lines = [...range.getClientRects()].filter(r => r.width > 0).length;
      if (lines > 1) problems.push(`"${word[0]}" is broken over ${lines} lines`);
    }
  }
}
const tops = [...document.querySelectorAll('.matrix .tactic')].map(t => t.offsetTop);
return { problems, rows: new Set(tops).size };
"#;

/// The home matrix fits the page at common screen widths (all 14 tactics in one row where they
/// fit, else in rows), with names wrapped between words; saves test-artifacts/home-1366.png.
#[test]
fn home_matrix_fits_common_widths_and_wraps_names_between_words() {
    let server = shared_server();
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    in_browser(|browser| async move {
        browser.open(server, "/").await;
        for (width, rows) in [(1920, 1), (1600, 1), (1440, 2), (1366, 2), (1280, 2), (1024, 2), (768, 4), (390, 7)] {
            browser.set_viewport(width, 900).await;
            let layout = browser.js(MATRIX_LAYOUT_PROBLEMS).await;
            assert_eq!(layout["problems"], json!([]), "at {width} pixels");
            assert_eq!(layout["rows"], json!(rows), "tactic rows at {width} pixels");
        }
        let png = browser.full_page_png(1366).await;
        std::fs::write(artifacts.join("home-1366.png"), png).unwrap();
    });
}

/// The number a matrix cell of /coverage shows first, and the one after its slash.
const COVERAGE_CELL: &str =
    "const cell = document.querySelector(`.matrix a.cell[href^='/techniques/${arguments[0]}?']`);
return { yours: cell.querySelector('.n').firstChild.textContent.trim(), all: cell.querySelector('.n .of').textContent,
         href: cell.getAttribute('href'), legend: document.getElementById('coverage-legend').checkVisibility() };";

/// With a stack, a coverage cell reads "yours / all", a visible legend says so, and the cell
/// leads to the technique's page showing exactly the stack's detections it counted.
#[test]
fn coverage_cells_count_yours_of_all_and_link_to_yours() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/coverage?have=splunk&have=sentinel").await;
        let cell = browser.client.execute(COVERAGE_CELL, vec![json!("T1090")]).await.unwrap();
        assert_eq!(cell["legend"], json!(true), "the legend is on the page, not in a tooltip");
        let yours: usize = cell["yours"].as_str().unwrap().parse().unwrap();
        let all: usize = cell["all"].as_str().unwrap().trim_start_matches(" / ").parse().unwrap();
        assert!(0 < yours && yours < all, "T1090: {yours} of {all}");
        let legend = browser.text("#coverage-legend").await;
        assert!(legend.contains("yours / all") && legend.contains("community-only"), "{legend}");
        let headline = browser.text("h1").await;
        assert_eq!(headline, "Coverage for Splunk, Microsoft");
        assert_eq!(cell["href"], json!("/techniques/T1090?source=splunk&source=sentinel"));

        browser.find(".matrix a.cell[href^='/techniques/T1090?']").await.click().await.unwrap();
        browser
            .eventually("the technique page", || async { browser.current_path().await == "/techniques/T1090" })
            .await;
        let shown: usize = browser.text("#shown-count").await.parse().unwrap();
        assert_eq!(shown, yours, "the cell counts the cards its link shows");
        let vendors = browser
            .js("return [...new Set(Array.from(document.querySelectorAll('article.card:not([hidden])'), c => c.dataset.vendor))].sort()")
            .await;
        assert_eq!(vendors, json!(["Microsoft", "Splunk"]));
    });
}

/// Each source has one name on every page: the vendor its detections carry on technique and
/// search pages ("Google SecOps", not its configured name `chronicle`), its product beside it.
#[test]
fn sources_have_one_name_on_every_page() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/").await;
        let home = browser.js("return Array.from(document.querySelectorAll('.sources-summary tbody td:first-child a'), a => a.textContent)").await;
        // Elastic's two sources go by their products.
        let names = [
            "Google SecOps",
            "Splunk",
            "Elastic Security",
            "Elastic Defend",
            "Microsoft",
            "Sigma",
            "Community KQL",
            "Panther",
        ];
        for name in names {
            assert!(home.as_array().unwrap().iter().any(|n| n == name), "home lacks {name}: {home}");
        }
        let product = browser.text(".sources-summary tbody tr:first-child td:first-child .meta").await;
        assert!(product.contains("Google SecOps SIEM") && product.contains("chronicle"), "{product}");

        browser.open(server, "/sources").await;
        assert_eq!(browser.text("section#chronicle h2").await, "Google SecOps Vendor-native feed");

        browser.open(server, "/coverage?have=chronicle").await;
        let ticked = browser.text("form.stack-form input[value=chronicle]:checked ~ span, form.stack-form label:has(input[value=chronicle])").await;
        assert!(ticked.starts_with("Google SecOps"), "{ticked}");
        let found =
            browser.find(".matrix a.cell[href^='/techniques/T1090?']").await.attr("title").await.unwrap().unwrap();
        assert!(found.contains("Google SecOps ") && !found.contains("chronicle "), "{found}");

        browser.open(server, "/groups/G0016?have=chronicle").await;
        let label = browser.text("form.stack-form label:has(input[value=chronicle])").await;
        assert_eq!(label, "Google SecOps");

        browser.open(server, "/techniques/T1090").await;
        let groups = browser
            .js("return Array.from(document.querySelectorAll('section.vendor-group'), s => s.dataset.vendor)")
            .await;
        assert!(groups.as_array().unwrap().iter().any(|v| v == "Google SecOps"), "{groups}");
    });
}

/// Deque's axe-core, installed by scripts/test.sh from scripts/oracles/package.json.
fn axe_source() -> String {
    let tools = std::env::var_os("RULEDEX_NODE_TOOLS")
        .filter(|v| !v.is_empty())
        .map_or_else(|| repo_root().join("target/tools/node"), std::path::PathBuf::from);
    let path = tools.join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): scripts/test.sh installs axe-core from scripts/oracles/package.json",
            path.display()
        )
    })
}

/// Runs axe-core on the page and answers its serious and critical violations, each as
/// "rule: impact: the first elements' selectors".
const AXE_RUN: &str = "const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then((results) => done(results.violations
  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
  .map((v) => `${v.id}: ${v.impact}: ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(' | ')} (${v.nodes.length})`)),
  (error) => done([`axe failed: ${error}`]));";

/// The seven pages a newcomer meets, the detection one found from the T1090 page.
async fn seven_pages(browser: &Browser, server: &Server) -> Vec<(&'static str, String)> {
    browser.open(server, "/techniques/T1090").await;
    let detection = browser.find("article.card[data-vendor=Splunk] h3 a").await.attr("href").await.unwrap().unwrap();
    vec![
        ("home", "/".to_string()),
        ("technique", "/techniques/T1090".to_string()),
        ("detection", detection),
        ("search", "/search?q=tor".to_string()),
        ("coverage", "/coverage?have=splunk&have=sentinel".to_string()),
        ("group", "/groups/G0016".to_string()),
        ("sources", "/sources".to_string()),
    ]
}

/// axe-core finds no serious or critical accessibility violation on the seven pages, at desktop
/// and phone widths; the pages are saved as test-artifacts/a11y-<page>-<width>.png.
#[test]
fn seven_pages_have_no_serious_accessibility_violations() {
    let server = shared_server();
    let axe = axe_source();
    let artifacts = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    in_browser(|browser| async move {
        let mut problems = Vec::new();
        for (page, path) in seven_pages(&browser, server).await {
            for (width, height) in [(1440, 900), (390, 844)] {
                browser.set_viewport(width, height).await;
                browser.open(server, &path).await;
                browser.js(&axe).await;
                let found = browser.client.execute_async(AXE_RUN, vec![]).await.unwrap();
                for violation in found.as_array().unwrap() {
                    problems.push(format!("{page} ({path}) at {width}px: {}", violation.as_str().unwrap()));
                }
                let png = browser.client.screenshot().await.unwrap();
                std::fs::write(artifacts.join(format!("a11y-{page}-{width}.png")), png).unwrap();
            }
        }
        assert!(problems.is_empty(), "axe-core found:\n{}", problems.join("\n"));
    });
}

/// The element with keyboard focus, as "tag#id.class: text", after pressing Tab `times` times.
async fn tab(browser: &Browser, times: usize) -> Value {
    for _ in 0..times {
        browser.client.active_element().await.unwrap().send_keys("\u{E004}").await.unwrap();
    }
    browser
        .js("const e = document.activeElement; const style = getComputedStyle(e); \
             return { tag: e.tagName, text: e.textContent.trim().slice(0, 40), href: e.getAttribute('href'), \
                      name: e.getAttribute('name'), value: e.getAttribute('value'), outline: style.outlineStyle };")
        .await
}

/// Skip links lead the keyboard to the filters and to the results in a few Tabs, the focused
/// control shows a ring, the "N shown" line is announced, and scrolling code takes focus.
#[test]
fn keyboard_reaches_filters_and_results_through_skip_links() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/techniques/T1090").await;
        let first = tab(&browser, 1).await;
        assert_eq!((first["text"].as_str(), first["href"].as_str()), (Some("Skip to filters"), Some("#filters")));
        assert_eq!(first["outline"], json!("solid"), "a focus ring: {first}");
        assert!(browser.find("a.skip[href='#filters']").await.is_displayed().await.unwrap(), "shown when focused");
        browser.client.active_element().await.unwrap().send_keys("\u{E007}").await.unwrap();
        let mut presses = 0;
        loop {
            presses += 1;
            let focused = tab(&browser, 1).await;
            if focused["name"] == json!("vendor") && focused["value"] == json!("Splunk") {
                break;
            }
            assert!(presses < 12, "{presses} Tabs from the skip link have not reached the Splunk filter: {focused}");
        }

        browser.open(server, "/techniques/T1090").await;
        let second = tab(&browser, 2).await;
        assert_eq!(second["href"], json!("#results"));
        browser.client.active_element().await.unwrap().send_keys("\u{E007}").await.unwrap();
        let mut presses = 0;
        loop {
            presses += 1;
            let focused = tab(&browser, 1).await;
            if focused["tag"] == json!("SUMMARY") && focused["text"].as_str().unwrap().starts_with("Show query") {
                break;
            }
            assert!(presses < 12, "{presses} Tabs from the skip link have not reached a query: {focused}");
        }
        browser.client.active_element().await.unwrap().send_keys("\u{E007}").await.unwrap();
        let code = tab(&browser, 1).await;
        assert_eq!(code["tag"], json!("PRE"), "the opened query's scrolling code takes focus next: {code}");

        let live = browser.find("#shown-line").await.attr("aria-live").await.unwrap();
        assert_eq!(live.as_deref(), Some("polite"));
        browser.js("window.__liveLine = document.getElementById('shown-line')").await;
        browser.find("#filters input[name=vendor][value=Splunk]").await.click().await.unwrap();
        browser
            .eventually("the count to follow the filter", || async {
                browser
                    .js("return window.__liveLine === document.getElementById('shown-line') && \
                            window.__liveLine.isConnected && location.search.includes('vendor=Splunk')")
                    .await
                    == json!(true)
            })
            .await;
    });
}

/// ATT&CK's and Elastic's Markdown reads as formatted text: links as links, headings as
/// headings, no "(Citation: ...)" markers, no raw tags or Markdown syntax.
#[test]
fn markdown_from_attack_and_rules_is_rendered_safely() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/groups/G0016").await;
        let description = browser.text(".description").await;
        assert!(description.starts_with("APT29 is threat group"), "{description}");
        for raw in ["(Citation:", "](http", "[", "<"] {
            assert!(!description.contains(raw), "{raw} in {description}");
        }
        let links = browser.js("return Array.from(document.querySelectorAll('.description a'), a => a.href)").await;
        assert!(links.as_array().unwrap().iter().all(|l| l.as_str().unwrap().starts_with("https://")), "{links}");
        assert!(!links.as_array().unwrap().is_empty());

        browser.open(server, "/techniques/T1059.001").await;
        let lead = browser.text(".attack-desc .lead").await;
        assert!(!lead.contains('<') && !lead.contains("(Citation"), "{lead}");

        browser.open(server, "/detections/elastic/482a5584-4ce4-4838-b806-0839a39b004f").await;
        let headings = browser
            .js("return Array.from(document.querySelectorAll('.markdown h3, .markdown h4'), h => h.textContent)")
            .await;
        assert!(headings.as_array().unwrap().iter().any(|h| h == "Triage and analysis"), "{headings}");
        let guide = browser.text(".markdown").await;
        assert!(!guide.contains("## "), "{guide}");
    });
}

/// What makes the page wider than the window: the page's width and the widest elements that
/// run past its right edge (tables may scroll inside their own box instead).
const SIDEWAYS: &str = "const width = window.innerWidth;
const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 1
  && !e.closest('.table-scroll, .matrix-wrap, pre') && e.checkVisibility())
  .slice(0, 5).map((e) => `${e.tagName}.${e.className} [${e.textContent.trim().slice(0, 40)}]: ${Math.round(e.getBoundingClientRect().right)}`);
return { scroll: document.documentElement.scrollWidth, width, wide };";

/// On a 390-pixel phone no page scrolls sideways, and the ATT&CK description's disclosure
/// triangle is inside the window.
#[test]
fn phone_pages_never_scroll_sideways() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.set_viewport(390, 844).await;
        let mut problems = Vec::new();
        for path in [
            "/",
            "/coverage?have=splunk&have=sentinel",
            "/sources",
            "/groups",
            "/groups/G0016",
            "/techniques/T1090",
            "/search?q=tor",
        ] {
            browser.open(server, path).await;
            let layout = browser.js(SIDEWAYS).await;
            if layout["scroll"].as_u64() > layout["width"].as_u64() {
                problems.push(format!("{path}: {layout}"));
            }
        }
        browser.open(server, "/techniques/T1090").await;
        let triangle =
            browser.js("return document.querySelector('.attack-desc > summary').getBoundingClientRect().left").await;
        assert!(triangle.as_f64().unwrap() >= 0.0, "the disclosure triangle starts at {triangle}");
        assert!(problems.is_empty(), "pages wider than the phone:\n{}", problems.join("\n"));
    });
}

/// The text of the detection page's "Needs in your SIEM" line, empty when it has none.
const NEEDS: &str = "return [...document.querySelectorAll('p.meta')]
  .find((p) => p.textContent.startsWith('Needs in your SIEM'))?.textContent ?? ''";

/// A detection page never contradicts itself: "Needs in your SIEM" lists no macro the
/// paste-ready query no longer calls; where macros have no definition (a source without its
/// macros folder) the page does not promise the query runs without the vendor's app; Elastic
/// cards show the index patterns a Kibana data view needs.
#[test]
fn detection_pages_say_what_the_paste_ready_query_still_needs() {
    let (real, fixtures) = (shared_server(), fixture_server());
    in_browser(|browser| async move {
        browser.open(real, "/techniques/T1090").await;
        let splunk = browser.find("article.card[data-vendor=Splunk] h3 a").await.attr("href").await.unwrap().unwrap();
        browser.open(real, &splunk).await;
        let query = browser.text("#q-d0").await;
        assert!(!query.contains('`'), "the paste-ready query calls no macro: {query}");
        let summary = browser.text("details.query > summary").await;
        assert!(summary.contains("runs without the vendor's app"), "{summary}");
        let needs = browser.js(NEEDS).await;
        assert!(!needs.as_str().unwrap().contains("macro"), "{splunk}: {needs}");

        browser.open(fixtures, "/detections/splunk/11111111-2222-4333-8444-555555555555").await;
        let summary = browser.text("details.query > summary").await;
        assert!(!summary.contains("runs without"), "{summary}");
        assert!(summary.contains("still calls security_content_summariesonly"), "{summary}");
        let needs = browser.js(NEEDS).await;
        assert!(needs.as_str().unwrap().contains("macro process_netsh"), "{needs}");

        browser.open(real, "/techniques/T1090?vendor=Elastic").await;
        let card = browser.first_visible_card_with(".indices").await;
        let indices = card.find(Locator::Css(".indices")).await.unwrap().text().await.unwrap();
        assert!(indices.starts_with("index patterns: ") && indices.contains("logs-"), "{indices}");
    });
}

/// The vertical position of the top of the first element matching `css`, in CSS pixels from
/// the top of the window (the page unscrolled).
async fn top_of(browser: &Browser, css: &str) -> f64 {
    let script = format!("return document.querySelector({css:?}).getBoundingClientRect().top");
    browser.js(&script).await.as_f64().unwrap_or_else(|| panic!("no {css}"))
}

/// Search recall: "tor exit node" lists Splunk's and Sentinel's Tor rules (matching some of the
/// words) after the rules matching all of them; "tor" offers T1090.003 first; filter counts
/// leave out the deprecated rules the page hides; filters apply in place with JavaScript, and
/// on a phone the filter panel starts folded.
#[test]
fn search_finds_partial_matches_and_filters_in_place() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/search?q=tor+exit+node").await;
        let heading = browser.text("#results h2.partial-heading").await;
        assert_eq!(heading, "Matching some of the words");
        let vendors_after = browser
            .js("return [...document.querySelectorAll('#results h2.partial-heading ~ article .badge.vendor')].map((b) => b.textContent)")
            .await;
        let after: Vec<String> = serde_json::from_value(vendors_after).unwrap();
        assert!(after.iter().any(|v| v == "Splunk"), "Splunk's TOR Traffic follows: {after:?}");
        let counts = browser
            .js("return [document.querySelectorAll('#results article').length, document.querySelectorAll('#results h2.partial-heading ~ article').length]")
            .await;
        assert!(counts[0].as_u64() > counts[1].as_u64(), "rules matching every word come first: {counts}");

        browser.open(server, "/search?q=tor").await;
        let first_technique = browser.text(".technique-matches li a").await;
        assert!(first_technique.starts_with("T1090.003"), "{first_technique}");
        let total: usize = browser.text(".search-head h1").await.split(' ').next().unwrap().parse().unwrap();
        let severities = browser
            .js("return [...document.querySelectorAll('#filters fieldset.facet input[name=severity]')].map((i) => +i.closest('label').querySelector('.count').textContent).reduce((a, b) => a + b, 0)")
            .await;
        assert!(severities.as_u64().unwrap() as usize <= total, "severity counts {severities} of {total} shown");

        assert_eq!(browser.js("return document.querySelector('#filters .apply button').hidden").await, json!(true));
        browser.js("window.__samePage = 1").await;
        browser.find("#filters input[name=vendor][value=Splunk]").await.click().await.unwrap();
        browser
            .eventually("the Splunk results in place", || async {
                let state = browser.js("return [location.search, window.__samePage, [...document.querySelectorAll('#results .badge.vendor')].map((b) => b.textContent)]").await;
                state[0].as_str().unwrap().contains("vendor=Splunk")
                    && state[1] == json!(1)
                    && state[2].as_array().unwrap().iter().all(|v| v == "Splunk")
            })
            .await;

        browser.set_viewport(390, 844).await;
        browser.open(server, "/search?q=tor").await;
        assert_eq!(browser.js("return document.getElementById('filter-panel').open").await, json!(false));
        let first = top_of(&browser, "#results article.card").await;
        assert!(first < 844.0, "the first result starts at {first}px, below the fold");
    });
}

/// At 1440 x 900 the first T1090 card is above the fold; the header folds what is secondary,
/// "+ N community" is a link, the "shown" line says what the family counts, the headline
/// follows the filter, and a compact table shows a line per detection.
#[test]
fn technique_page_shows_its_first_card_above_the_fold_and_a_compact_table() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.set_viewport(1440, 900).await;
        browser.open(server, "/techniques/T1090").await;
        let first = top_of(&browser, "article.card").await;
        assert!(first < 900.0, "the first card starts at {first}px");
        let shown = browser.text("#shown-line").await;
        assert!(shown.contains("detections listed for T1090 and its sub-techniques"), "{shown}");
        let community = browser.find("a#community-link").await.attr("href").await.unwrap().unwrap();
        assert!(community.contains("community=1"), "{community}");

        browser.find("#filters input[name=vendor][value=Splunk]").await.click().await.unwrap();
        browser
            .eventually("a headline for the Splunk detections", || async {
                let texts = browser.js("return [document.querySelector('.summary .headline').textContent.trim(), document.getElementById('shown-count').textContent]").await;
                let (headline, count) = (texts[0].as_str().unwrap(), texts[1].as_str().unwrap());
                headline.contains("detections for Splunk") && headline.starts_with(count)
            })
            .await;

        browser.find("button.view-toggle").await.click().await.unwrap();
        let heights = browser
            .js("return [...document.querySelectorAll('article.card')].filter((c) => c.checkVisibility()).map((c) => c.getBoundingClientRect().height)")
            .await;
        let heights: Vec<f64> = serde_json::from_value(heights).unwrap();
        assert!(!heights.is_empty() && heights.iter().all(|h| *h < 90.0), "compact rows: {heights:?}");
        browser.reload().await;
        assert_eq!(browser.js("return document.body.classList.contains('compact')").await, json!(true), "remembered");
        browser.find("button.view-toggle").await.click().await.unwrap();
    });
}

/// A catch-all rule tagged with dozens of techniques is marked broad and shows six chips, the
/// rest behind "+ N more techniques".
#[test]
fn broad_rules_are_marked_and_their_chips_folded() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/search?q=%22AppOmni+Alert+Passthrough%22").await;
        let card = browser.first_visible_card_with(".badge.broad").await;
        let badge = card.find(Locator::Css(".badge.broad")).await.unwrap().text().await.unwrap();
        assert!(badge.starts_with("broad · "), "{badge}");
        let chips = card.find_all(Locator::Css(".card > .chips .chip")).await.unwrap();
        assert_eq!(chips.len(), 6);
        let more = card.find(Locator::Css(".more-chips > summary")).await.unwrap().text().await.unwrap();
        assert!(more.starts_with("+ ") && more.ends_with(" more techniques"), "{more}");
    });
}

/// Every page has a favicon (no 404 in the console) and a description; the "Changes" link of
/// the navigation leads to the "What changed" page.
#[test]
fn pages_have_a_favicon_a_description_and_a_changes_page() {
    let server = shared_server();
    in_browser(|browser| async move {
        browser.open(server, "/").await;
        let icon = browser.find("link[rel=icon]").await.attr("href").await.unwrap().unwrap();
        let status = browser
            .client
            .execute_async(
                "const done = arguments[1]; fetch(arguments[0]).then((r) => done([r.status, r.headers.get('content-type')]))",
                vec![json!(icon)],
            )
            .await
            .unwrap();
        assert_eq!(status, json!([200, "image/svg+xml"]));
        let description = browser.find("meta[name=description]").await.attr("content").await.unwrap().unwrap();
        assert!(description.contains("ATT&CK"), "{description}");
        browser.find(".topnav a[href='/changes']").await.click().await.unwrap();
        browser.eventually("the changes page", || async { browser.current_path().await == "/changes" }).await;
        assert_eq!(browser.text("h1").await, "What changed");
    });
}
