//! Compiles the protocol definitions with `protox` (a protobuf compiler written in Rust),
//! so a fresh machine needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/tfplugin6.proto",
        "proto/grpc_controller.proto",
        "proto/grpc_stdio.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // RPCs a server does not implement answer UNIMPLEMENTED (the bbb provider serves no
        // ephemeral resources; the plan check's schema provider does).
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
