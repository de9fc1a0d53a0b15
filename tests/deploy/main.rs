//! Deploying, offline: the built bundle through `wrangler deploy --dry-run`,
//! and `tools/deploy.sh` run by the real wrangler against a stand-in for the
//! Cloudflare API (`cf-standin/server.mjs` on 127.0.0.1). Neither runs the
//! worker: they test the tooling around it, so they are a binary of their
//! own rather than part of `e2e`.

mod dry_run;
mod script;
