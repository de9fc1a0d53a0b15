//! Browser tests: the pages in headless Chromium (Debian's, driven through
//! chromedriver by the small WebDriver client in `webdriver.rs`) against the
//! real worker under `wrangler dev`, with the e2e harness (`../e2e/`). Each
//! module is a scenario group, as in the e2e binary.

#[path = "../e2e/app.rs"]
mod app;
#[path = "../e2e/issues.rs"]
mod issues;
#[path = "../e2e/mock.rs"]
mod mock;
#[path = "../e2e/scenario.rs"]
mod scenario;
mod webdriver;

mod delivery_replay;
mod health_banner;
mod pages;
