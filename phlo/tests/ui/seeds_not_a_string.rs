const SEEDS: &[phlo::ProjectFile] = phlo::seeds!(seeds);

fn main() {
    let _ = SEEDS;
}
