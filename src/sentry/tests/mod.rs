//! Tests that deliver a signed body through `hook::handle` for one resource.

mod alerts;
mod comments;
mod installation;
