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
    // tfplugin6: RPCs a server does not implement answer UNIMPLEMENTED (the bbb provider serves
    // no ephemeral resources; the plan check's schema provider, plancheck/, does).
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(protox::compile([files[0]], ["proto"])?)?;
    // go-plugin's services: implemented in full.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(protox::compile(&files[1..], ["proto"])?)?;
    Ok(())
}
