//! Paths to every plugin in `plugins/`, built for `wasm32-wasip2` by this
//! crate's build script (once per `cargo test` or `cargo bench` run).
//! `HOSTILE_LOOP`, `FIXTURE_READER`, `BACK_FAV_PREOFF`, ... name the
//! components; `foreach_hostile!` lists the hostile ones.

include!(concat!(env!("OUT_DIR"), "/gen.rs"));
