//! Compiles `parlay/**/*.proto` with protox (pure Rust, no system `protoc`) and generates
//! prost messages and tonic services into OUT_DIR, plus the descriptor set for reflection.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "parlay/common/v1/common.proto",
        "parlay/call/v1/call.proto",
        "parlay/call/v1/callnotif.proto",
        "parlay/call/v1/audio.proto",
        "parlay/messaging/v1/messaging.proto",
        "parlay/presence/v1/presence.proto",
        "parlay/addresslist/v1/addresslist.proto",
        "parlay/net/v1/net.proto",
        "parlay/notify/v1/notify.proto",
    ];
    println!("cargo:rerun-if-changed=parlay");
    let fds = protox::compile(files, ["."])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out.join("parlay_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
