//! The provider built with its test-only resources (`bbb_test_item`), for acceptance tests
//! and benchmarks. Never shipped.

fn main() -> std::process::ExitCode {
    terraform_provider_bbb::main()
}
