//! Headless Chromium driven through the DevTools protocol, for the tests that check pages as a
//! user sees them. Chromium (Debian's `chromium`, installed by `scripts/setup --test`) talks over
//! two pipes (`--remote-debugging-pipe`: it reads commands on fd 3 and writes on fd 4, one JSON
//! message per NUL-terminated chunk), so no port and no WebSocket library are needed.
//!
//! Every wait is bounded: a page or browser that hangs fails the test instead of stalling it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The longest any one answer or page load may take.
const WAIT: Duration = Duration::from_secs(60);
/// The window pages are laid out in, as on a laptop screen.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

pub struct Browser {
    child: Child,
    commands: std::io::PipeWriter,
    messages: Receiver<Value>,
    /// Events not yet looked at, in the order they came.
    events: VecDeque<Value>,
    session: String,
    next_id: u64,
    /// What the page logged as errors: console errors, uncaught exceptions, failed loads.
    pub errors: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with an empty profile and one blank tab.
    pub fn start() -> Browser {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|name| which(name))
            .expect(
                "chromium is missing: run scripts/setup --test (it installs Debian's chromium)",
            );
        let profile = tempfile::tempdir().unwrap();
        let (chromium_reads, commands) = std::io::pipe().unwrap();
        let (messages_in, chromium_writes) = std::io::pipe().unwrap();
        let (read_fd, write_fd) = (chromium_reads.as_raw_fd(), chromium_writes.as_raw_fd());
        let mut command = Command::new(chromium);
        command
            .args([
                "--headless",
                // Tests may run as root (CI containers), where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--mute-audio",
                "--hide-scrollbars",
                &format!("--window-size={WIDTH},{HEIGHT}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec. The pipe
        // ends are first moved above 10 so that placing one on fd 3 cannot close the other.
        unsafe {
            command.pre_exec(move || {
                let high_read = libc::fcntl(read_fd, libc::F_DUPFD_CLOEXEC, 10);
                let high_write = libc::fcntl(write_fd, libc::F_DUPFD_CLOEXEC, 10);
                if high_read < 0
                    || high_write < 0
                    || libc::dup2(high_read, 3) < 0
                    || libc::dup2(high_write, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("cannot start chromium");
        // Our copies of Chromium's ends must close, or the reader never sees it exit.
        drop((chromium_reads, chromium_writes));
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(messages_in);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                message.pop_if(|b| *b == 0);
                if let Ok(value) = serde_json::from_slice(&message)
                    && sender.send(value).is_err()
                {
                    return;
                }
                message.clear();
            }
        });
        let mut browser = Browser {
            child,
            commands,
            messages,
            events: VecDeque::new(),
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    /// Opens `page` and waits for its load event (images and the video's metadata request
    /// included).
    pub fn open(&mut self, page: &Path) {
        let url = format!("file://{}", std::path::absolute(page).unwrap().display());
        self.events.clear();
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for_event("Page.loadEventFired");
    }

    /// The value of the JavaScript `expression` in the page (awaited, if it is a promise).
    pub fn eval(&mut self, expression: &str) -> Value {
        let answer = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = answer.get("exceptionDetails") {
            panic!("{expression}: {exception}");
        }
        answer["result"]["value"].clone()
    }

    /// Clicks the middle of the element `selector` names (scrolled into view first), as a
    /// mouse would.
    pub fn click(&mut self, selector: &str) {
        let selector_js = serde_json::to_string(selector).unwrap();
        let point = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector_js}); e.scrollIntoView({{block: 'center'}});
               const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Saves the whole page, not only the window, as a PNG at `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Sends `method` to the page (or to the browser, before a page is attached) and returns
    /// its result, collecting the events that come meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        loop {
            let message = self.next_message(method);
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method}: {error}");
                }
                return message["result"].clone();
            }
            self.note(message);
        }
    }

    fn wait_for_event(&mut self, method: &str) {
        if let Some(at) = self.events.iter().position(|e| e["method"] == method) {
            self.events.drain(..=at);
            return;
        }
        loop {
            let message = self.next_message(method);
            if message["method"] == method {
                return;
            }
            self.note(message);
        }
    }

    fn next_message(&mut self, waiting_for: &str) -> Value {
        match self.messages.recv_timeout(WAIT) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("chromium: no answer to {waiting_for} in {WAIT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("chromium exited while waiting for {waiting_for}")
            }
        }
    }

    /// Keeps an event, and what it says about errors in the page.
    fn note(&mut self, event: Value) {
        let params = &event["params"];
        let error = match event["method"].as_str() {
            Some("Runtime.consoleAPICalled")
                if matches!(params["type"].as_str(), Some("error" | "assert")) =>
            {
                Some(params["args"].to_string())
            }
            Some("Runtime.exceptionThrown") => Some(params["exceptionDetails"].to_string()),
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => Some(
                params["entry"]["text"].to_string() + " " + &params["entry"]["url"].to_string(),
            ),
            _ => None,
        };
        self.errors.extend(error);
        self.events.push_back(event);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
