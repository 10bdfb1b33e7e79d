//! `terraform-provider-bbb`: started by Terraform or OpenTofu, never by hand.

fn main() -> std::process::ExitCode {
    terraform_provider_bbb::main()
}
