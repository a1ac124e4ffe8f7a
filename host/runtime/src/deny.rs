//! WASI imports the sandbox forbids. Linked in by `wasmtime-wasi` with the
//! rest of WASI (a component built with Rust's std imports them), they are
//! shadowed here by functions that trap with the reason: each would let a
//! plugin make the host wait in real time (a sleep or a poll blocks the
//! event loop, and no fuel or deadline runs while the host waits) or do
//! work its fuel does not see (a name lookup).

use wasmtime::component::Linker;

use super::fault::Forbidden;
use super::sandbox::PluginState;

/// The WASI version `wasmtime-wasi` 48 links under; components built
/// against any 0.2.x resolve to it.
const WASI: &str = "0.2.12";

/// (interface, function, why) for each forbidden import.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    (
        "wasi:io/poll",
        "poll",
        "waiting on pollables blocks the host",
    ),
    (
        "wasi:io/poll",
        "[method]pollable.block",
        "waiting on a pollable blocks the host",
    ),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-duration",
        "sleeping blocks the host",
    ),
    (
        "wasi:clocks/monotonic-clock",
        "subscribe-instant",
        "sleeping blocks the host",
    ),
    (
        "wasi:sockets/ip-name-lookup",
        "resolve-addresses",
        "plugins have no network",
    ),
];

/// Replace every [`FORBIDDEN`] import in `linker` by one that traps.
pub(crate) fn shadow_forbidden_wasi(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    for &(interface, function, why) in FORBIDDEN {
        let reason = format!("{interface}.{function}: {why}");
        linker
            .instance(&format!("{interface}@{WASI}"))?
            .func_new(function, move |_, _, _, _| {
                Err(wasmtime::Error::new(Forbidden(reason.clone())))
            })?;
    }
    linker.allow_shadowing(false);
    Ok(())
}
