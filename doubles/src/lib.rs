//! Test doubles of Scalelite, BBB and the EC2 instance metadata service.
//!
//! They serve the real APIs on 127.0.0.1 with ephemeral ports, verify checksums as the real
//! servers do, and answer with the real status codes and bodies. Hooks on the handles change
//! state directly (as operators or the Scalelite poller would), count calls and inject faults.

pub mod bbb;
mod common;
pub mod freeswitch;
pub mod imds;
pub mod scalelite;

pub use bbb::{BbbDouble, DoubleMeeting, Pace, PipelineStage, RecordingOutcome, RecordingPipeline};
pub use freeswitch::FreeswitchDouble;
pub use imds::{ImdsDouble, InstanceIdentity};
pub use scalelite::{
    attendee_load, DoubleServer, PollRead, PolledMeeting, ScaleliteDouble, LOAD_JOIN_BUFFER_TIME,
    LOAD_MIN_USER_COUNT,
};
