//! The provider plus its test-only resources (`bbb_test_item`, `bbb_test_echo`, from
//! `src/test_resources/`), for acceptance tests and benchmarks. Never shipped: the provider
//! crate's own `terraform-provider-bbb` has no way to serve them.

fn main() -> std::process::ExitCode {
    terraform_provider_bbb::main_with_resources(bbb_acceptance_tests::test_resources::all())
}
