//! `bbb_test_echo`: a test-only resource with `terraform_data`'s shape (an input copied to an
//! output, a random ID, nothing stored outside the state), so benchmarks compare the provider
//! runtime with Terraform's built-in provider on equal terms. Served only by the acceptance
//! crate's `terraform-provider-bbb-acc`, never by the provider crate's binary.

use async_trait::async_trait;

use terraform_provider_bbb::provider::ProviderData;
use tfplugin_framework::{
    Applied, ApplyRequest, Attribute, Block, Diagnostics, Resource, Schema, Value,
};

pub struct TestEcho;

fn echoed(planned: &Value, id: Value) -> Applied {
    let mut state = planned.clone();
    state.set("id", id);
    state.set("output", planned.get("input").clone());
    Applied::new(state)
}

#[async_trait]
impl Resource<ProviderData> for TestEcho {
    fn type_name(&self) -> &'static str {
        "bbb_test_echo"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new()
                .description("Test-only resource shaped like terraform_data (benchmarks).")
                .attribute(Attribute::string("id").computed().use_state_for_unknown())
                .attribute(Attribute::string("input").required())
                .attribute(Attribute::string("output").computed()),
        )
    }

    async fn create(&self, _: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        Ok(echoed(
            &req.planned,
            Value::String(hex::encode(rand::random::<[u8; 8]>())),
        ))
    }

    async fn read(
        &self,
        _: &ProviderData,
        current: Applied,
    ) -> Result<Option<Applied>, Diagnostics> {
        Ok(Some(current))
    }

    async fn update(&self, _: &ProviderData, req: ApplyRequest) -> Result<Applied, Diagnostics> {
        Ok(echoed(&req.planned, req.prior.get("id").clone()))
    }

    async fn delete(&self, _: &ProviderData, _: ApplyRequest) -> Result<(), Diagnostics> {
        Ok(())
    }
}
