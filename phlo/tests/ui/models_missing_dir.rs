// The directory is resolved against the crate's Cargo.toml; an absolute path keeps this
// snapshot independent of where trybuild builds the test.
const MODELS: &[phlo::ProjectFile] = phlo::models!("/nonexistent/phlo/models");

fn main() {
    let _ = MODELS;
}
