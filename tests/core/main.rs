//! The core layer natively: verification, parsing and planning of the
//! webhooks on the worker's own code, with no database and no worker (the
//! SQL is the `store` binary's, the running worker `e2e`'s). One module per
//! concern.

#[path = "../support/arbitrary.rs"]
mod arbitrary;

mod github_webhook;
mod hostile_webhooks;
mod integration_schema;
mod link_header;
mod request_url;
mod signature_vectors;
