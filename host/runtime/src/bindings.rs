//! Host-side bindings generated from `wit/strategy.wit` (world `plugin`).
//! Only this module and `imports.rs` see generated types; everything else
//! speaks clever-sdk's types.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "plugin",
});

pub use clever::strategy::types as wit;
